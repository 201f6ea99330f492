"""The topic catalogue (`contracts/topics.yaml`): load it and validate every entry with errors that name it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simpul_contracts import DataClass
from simpul_infra import paths

DLQ_SUFFIX = ".dlq"
CLEANUP_POLICIES = frozenset({"delete", "compact", "compact,delete", "delete,compact"})
# <producer>.<aggregate>.v<major>, as the catalogue's header states; Kafka allows 249 chars, the .dlq needs 4.
_NAME = re.compile(r"^(?P<owner>[a-z][a-z0-9-]*)\.[a-z][a-z0-9-]*\.v[1-9][0-9]*$")
_MAX_NAME = 249 - len(DLQ_SUFFIX)
_REQUIRED = ("name", "owner", "data_class", "key", "description", "keeps")
_SETTINGS = ("partitions", "retention_ms", "cleanup_policy", "max_compaction_lag_ms", "segment_ms")


class CatalogueError(ValueError):
    """The catalogue is malformed; the message names the file and the offending entry."""


@dataclass(frozen=True)
class TopicSpec:
    """One Kafka topic to provision, with its effective settings."""

    name: str
    partitions: int
    retention_ms: int
    cleanup_policy: str = "delete"
    owner: str = ""
    data_class: DataClass | None = None
    key: str = ""
    description: str = ""
    keeps: str = ""  # what the topic keeps and for how long, in words (the catalogue documents it)
    max_compaction_lag_ms: int | None = None  # a superseded record is compacted away within this long
    segment_ms: int | None = None  # segments roll this often (the active one is never compacted)

    def configs(self, min_insync_replicas: int = 1) -> dict[str, str]:
        """Topic-level configs to create it with (and to align an existing one to)."""
        configs = {
            "retention.ms": str(self.retention_ms),
            "cleanup.policy": self.cleanup_policy,
            "min.insync.replicas": str(min_insync_replicas),
        }
        if self.max_compaction_lag_ms is not None:
            configs["max.compaction.lag.ms"] = str(self.max_compaction_lag_ms)
        if self.segment_ms is not None:
            configs["segment.ms"] = str(self.segment_ms)
        return configs


@dataclass(frozen=True)
class Catalogue:
    """Every catalogue topic, and the settings of the dead-letter topic that goes with each."""

    topics: tuple[TopicSpec, ...]
    dlq_partitions: int
    dlq_retention_ms: int
    dlq_cleanup_policy: str = "delete"

    def dlq_of(self, topic: TopicSpec) -> TopicSpec:
        """The `<name>.dlq` topic for `topic`: same owner and data class, DLQ sizing and retention."""
        return TopicSpec(
            name=topic.name + DLQ_SUFFIX, partitions=self.dlq_partitions, retention_ms=self.dlq_retention_ms,
            cleanup_policy=self.dlq_cleanup_policy, owner=topic.owner, data_class=topic.data_class, key=topic.key,
            description=f"Dead letters of {topic.name}.",
            keeps=f"Records {topic.name}'s consumers could not apply, with the error, for the DLQ retention"
                  + (": each value sealed under the consumer's field keyring (no plaintext; `simpul dlq replay` "
                     "opens it)." if topic.data_class is DataClass.RESTRICTED else "."),
        )

    def all_topics(self) -> list[TopicSpec]:
        """Each catalogue topic followed by its dead-letter topic."""
        return [spec for topic in self.topics for spec in (topic, self.dlq_of(topic))]


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate the catalogue (default `contracts/topics.yaml`)."""
    path = path or paths.topic_catalogue()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot read the topic catalogue: {exc}") from exc
    return parse_catalogue(data, source=str(path))


def parse_catalogue(data: Any, source: str = "topic catalogue") -> Catalogue:
    """Validate parsed catalogue YAML; raise CatalogueError naming the bad entry."""
    if not isinstance(data, dict):
        raise CatalogueError(f"{source}: expected a mapping with defaults, dlq and topics")
    _no_unknown(data, {"defaults", "dlq", "topics"}, source)
    defaults = _settings(data.get("defaults") or {}, f"{source}: defaults", {}, complete=False)
    # Dead letters are never compacted (records share keys), whatever the topics' default policy.
    dlq_inherited = {**defaults, "cleanup_policy": "delete"}
    dlq = _settings(data.get("dlq") or {}, f"{source}: dlq", dlq_inherited, complete=True)
    entries = data.get("topics")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(f"{source}: `topics` must be a non-empty list")
    topics: list[TopicSpec] = []
    for index, entry in enumerate(entries):
        topics.append(_topic(entry, defaults, f"{source}: topics[{index}]"))
    seen: set[str] = set()
    for index, topic in enumerate(topics):
        if topic.name in seen:
            raise CatalogueError(f"{source}: topics[{index}] ({topic.name}): duplicate topic name")
        seen.add(topic.name)
    return Catalogue(tuple(topics), dlq_partitions=dlq["partitions"], dlq_retention_ms=dlq["retention_ms"],
                     dlq_cleanup_policy=dlq["cleanup_policy"])


def _no_unknown(mapping: dict[Any, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(key) for key in mapping if key not in allowed)
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")


def _settings(raw: Any, where: str, inherited: dict[str, Any], *, complete: bool) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: expected a mapping")
    _no_unknown(raw, set(_SETTINGS), where)
    merged = {**inherited, **raw}
    _check_settings(merged, where, complete=complete)
    return merged


def _check_settings(values: dict[str, Any], where: str, *, complete: bool = True) -> None:
    """Check the settings present; with `complete`, partitions and retention_ms must be there too."""
    if complete:
        missing = [name for name in ("partitions", "retention_ms") if name not in values]
        if missing:
            raise CatalogueError(f"{where}: missing {', '.join(missing)} (and no default)")
    partitions, retention = values.get("partitions", 1), values.get("retention_ms", -1)
    # bool is an int subclass; `partitions: yes` is a typo, not 1.
    if type(partitions) is not int or partitions < 1:
        raise CatalogueError(f"{where}: partitions must be a positive integer, got {partitions!r}")
    if type(retention) is not int or retention < -1:
        raise CatalogueError(f"{where}: retention_ms must be an integer >= -1 (-1: forever), got {retention!r}")
    policy = values.get("cleanup_policy", "delete")
    if policy not in CLEANUP_POLICIES:
        raise CatalogueError(f"{where}: cleanup_policy must be one of {sorted(CLEANUP_POLICIES)}, got {policy!r}")
    for name in ("max_compaction_lag_ms", "segment_ms"):
        value = values.get(name)
        if value is not None and (type(value) is not int or value < 1):
            raise CatalogueError(f"{where}: {name} must be a positive integer, got {value!r}")


def _topic(entry: Any, defaults: dict[str, Any], where: str) -> TopicSpec:
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: expected a mapping, got {entry!r}")
    name = entry.get("name")
    where = f"{where} ({name})" if isinstance(name, str) and name else where
    _no_unknown(entry, {*_REQUIRED, *_SETTINGS}, where)
    for field in _REQUIRED:
        value = entry.get(field)
        if not isinstance(value, str) or not value.strip():
            raise CatalogueError(f"{where}: `{field}` is required and must be a non-empty string")
    match = _NAME.match(entry["name"])
    if match is None or len(entry["name"]) > _MAX_NAME:
        raise CatalogueError(f"{where}: name must look like <producer>.<aggregate>.v<major> "
                             f"(lower-case, digits, '-'; at most {_MAX_NAME} chars)")
    if match["owner"] != entry["owner"]:
        raise CatalogueError(f"{where}: owner {entry['owner']!r} must be the producer the name starts with "
                             f"({match['owner']!r})")
    try:
        data_class = DataClass(entry["data_class"])
    except ValueError:
        allowed = ", ".join(member.value for member in DataClass)
        raise CatalogueError(f"{where}: data_class {entry['data_class']!r} is not one of {allowed}") from None
    settings = {**defaults, **{key: entry[key] for key in _SETTINGS if key in entry}}
    _check_settings(settings, where)
    if data_class is DataClass.RESTRICTED:
        _check_restricted(settings, where)
    return TopicSpec(
        name=entry["name"], partitions=settings["partitions"], retention_ms=settings["retention_ms"],
        cleanup_policy=settings.get("cleanup_policy", "delete"), owner=entry["owner"], data_class=data_class,
        key=entry["key"], description=entry["description"].strip(), keeps=entry["keeps"].strip(),
        max_compaction_lag_ms=settings.get("max_compaction_lag_ms"), segment_ms=settings.get("segment_ms"),
    )


def _check_restricted(settings: dict[str, Any], where: str) -> None:
    """Personal data must not outlive its purpose: a restricted topic keeps only each child's latest record (a
    tombstone erases it), and compacts superseded ones within a bound; it is never kept whole for ever."""
    if settings.get("cleanup_policy") != "compact" or settings.get("max_compaction_lag_ms") is None:
        raise CatalogueError(f"{where}: a restricted topic must be compacted (cleanup_policy: compact) with a "
                             "max_compaction_lag_ms, so superseded and erased personal data leaves the log")
