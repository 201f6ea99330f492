"""Provision the catalogue's topics (and each one's `.dlq`) on a Kafka cluster, idempotently."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError as AIOKafkaError

from simpul_infra.catalogue import (
    DLQ_SUFFIX,
    Catalogue,
    CatalogueError,
    TopicSpec,
    load_catalogue,
    parse_catalogue,
)
from simpul_infra.errors import InfraError

__all__ = [
    "DLQ_SUFFIX",
    "Catalogue",
    "CatalogueError",
    "ProvisionReport",
    "TopicSpec",
    "TopicsError",
    "ensure_topics",
    "fresh_topic",
    "load_catalogue",
    "parse_catalogue",
    "partition_counts",
    "provision",
]

_TOPIC_ALREADY_EXISTS = 36
_VISIBLE_TIMEOUT_S = 15.0
_PREFIX = re.compile(r"^[A-Za-z0-9._-]{1,180}$")


class TopicsError(InfraError):
    """Topics could not be listed or created."""


@dataclass
class ProvisionReport:
    """What provisioning did: topics created, already there, and existing ones whose partition count differs."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, int, int]] = field(default_factory=list)  # name, wanted, actual
    aligned: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # name, the configs changed to

    def lines(self) -> list[str]:
        """A human-readable summary, one line per fact."""
        out = [f"created  {name}" for name in self.created]
        out += [f"exists   {name}" for name in self.existing]
        out += [f"MISMATCH {name}: catalogue says {wanted} partitions, cluster has {actual} (left alone)"
                for name, wanted, actual in self.mismatched]
        out += [f"aligned  {name}: " + ", ".join(f"{key}={value}" for key, value in sorted(changed.items()))
                for name, changed in self.aligned]
        out.append(f"{len(self.created)} created, {len(self.existing)} already present, "
                   f"{len(self.mismatched)} partition-count mismatch(es)")
        return out


@asynccontextmanager
async def _admin(bootstrap_servers: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="simpul-infra",
                                request_timeout_ms=30_000)
    try:
        await admin.start()
    except AIOKafkaError as exc:
        await admin.close()
        raise TopicsError(f"cannot reach Kafka at {bootstrap_servers}: {exc!r}") from exc
    try:
        yield admin
    except AIOKafkaError as exc:
        raise TopicsError(f"Kafka admin request to {bootstrap_servers} failed: {exc!r}") from exc
    finally:
        await admin.close()


async def _describe(admin: AIOKafkaAdminClient, names: list[str] | None = None) -> dict[str, dict[str, Any]]:
    return {topic["topic"]: topic for topic in await admin.describe_topics(names)}


async def partition_counts(bootstrap_servers: str, *, internal: bool = False) -> dict[str, int]:
    """Every topic on the cluster with its partition count (internal `__` topics only if asked)."""
    async with _admin(bootstrap_servers) as admin:
        topics = await _describe(admin)
    return {name: len(topic["partitions"]) for name, topic in sorted(topics.items())
            if internal or not topic.get("is_internal")}


async def provision(bootstrap_servers: str, catalogue: Catalogue | None = None, *,
                    replication_factor: int = 1, min_insync_replicas: int = 1) -> ProvisionReport:
    """Create the catalogue's missing topics and their `.dlq` topics; align existing ones' configs to it (partition
    counts are only reported: they cannot shrink, and growing them re-keys the partitions)."""
    catalogue = catalogue or load_catalogue()
    return await ensure_topics(bootstrap_servers, catalogue.all_topics(), replication_factor=replication_factor,
                               min_insync_replicas=min_insync_replicas)


async def ensure_topics(bootstrap_servers: str, specs: Sequence[TopicSpec], *, replication_factor: int = 1,
                        min_insync_replicas: int = 1) -> ProvisionReport:
    """Create whichever of `specs` are missing and wait until they have leaders; report the rest."""
    report = ProvisionReport()
    async with _admin(bootstrap_servers) as admin:
        existing = await _describe(admin)
        missing = [spec for spec in specs if spec.name not in existing]
        for spec in specs:
            if spec.name not in existing:
                continue
            report.existing.append(spec.name)
            actual = len(existing[spec.name]["partitions"])
            if actual != spec.partitions:
                report.mismatched.append((spec.name, spec.partitions, actual))
        present = [spec for spec in specs if spec.name in existing]
        if present:
            await _align(admin, present, min_insync_replicas, report)
        if missing:
            await _create(admin, missing, replication_factor, min_insync_replicas, report)
            await _wait_until_led(admin, [spec.name for spec in missing])
    return report


async def _align(admin: AIOKafkaAdminClient, specs: list[TopicSpec], min_insync_replicas: int,
                 report: ProvisionReport) -> None:
    """Bring existing topics' configs to the catalogue's (a topic made restricted becomes compacted, say).

    Kafka's AlterConfigs replaces a topic's overrides as a whole, so the catalogue's configs are sent in full, and
    only for topics where one of them differs.
    """
    wanted = {spec.name: spec.configs(min_insync_replicas) for spec in specs}
    responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in wanted])
    actual: dict[str, dict[str, str]] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            actual[resource["resource_name"]] = {e["config_names"]: e["config_value"]
                                                 for e in resource["config_entries"]}
    changes = {name: {k: v for k, v in configs.items() if actual.get(name, {}).get(k) != v}
               for name, configs in wanted.items()}
    stale = {name: changed for name, changed in changes.items() if changed}
    if not stale:
        return
    await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs=wanted[name])
                               for name in stale])
    report.aligned.extend(sorted(stale.items()))


async def _create(admin: AIOKafkaAdminClient, specs: list[TopicSpec], replication_factor: int,
                  min_insync_replicas: int, report: ProvisionReport) -> None:
    new_topics = [NewTopic(spec.name, spec.partitions, replication_factor,
                           topic_configs=spec.configs(min_insync_replicas)) for spec in specs]
    response = (await admin.create_topics(new_topics)).to_object()
    failures = []
    for result in response["topic_errors"]:
        code = result["error_code"]
        if code == 0:
            report.created.append(result["topic"])
        elif code == _TOPIC_ALREADY_EXISTS:  # created concurrently since we listed: fine
            report.existing.append(result["topic"])
        else:
            failures.append(f"{result['topic']}: error {code} {result.get('error_message') or ''}".rstrip())
    if failures:
        raise TopicsError("creating topics failed:\n  " + "\n  ".join(failures))


async def _wait_until_led(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Wait until every partition of `names` has a leader, so producers started right after do not race."""
    deadline = asyncio.get_running_loop().time() + _VISIBLE_TIMEOUT_S
    pending = set(names)
    while pending:
        described = await _describe(admin, sorted(pending))
        pending = {name for name, topic in described.items()
                   if topic["error_code"] != 0 or not topic["partitions"]
                   or any(partition["leader"] < 0 for partition in topic["partitions"])}
        if pending and asyncio.get_running_loop().time() > deadline:
            raise TopicsError(f"topics without partition leaders after {_VISIBLE_TIMEOUT_S:.0f} s: "
                              f"{', '.join(sorted(pending))}")
        if pending:
            await asyncio.sleep(0.1)


async def fresh_topic(bootstrap_servers: str, prefix: str = "test", partitions: int = 1, *,
                      dlq: bool = True, dlq_partitions: int = 1) -> str:
    """Create a uniquely named topic `<prefix>.<random>` (plus its `.dlq`) for an isolated test; return its name."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"topic prefix {prefix!r} may only hold letters, digits, '.', '_' and '-'")
    name = f"{prefix}.{uuid.uuid4().hex[:12]}"
    specs = [TopicSpec(name=name, partitions=partitions, retention_ms=-1)]
    if dlq:
        specs.append(TopicSpec(name=name + DLQ_SUFFIX, partitions=dlq_partitions, retention_ms=-1))
    await ensure_topics(bootstrap_servers, specs)
    return name
