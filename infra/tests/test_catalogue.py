"""Catalogue validation: the real catalogue loads; every kind of bad entry is rejected with its name."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from simpul_infra.topics import CatalogueError, load_catalogue, parse_catalogue

GOOD: dict[str, Any] = {
    "defaults": {"partitions": 3, "retention_ms": -1, "cleanup_policy": "delete"},
    "dlq": {"partitions": 1, "retention_ms": 2_592_000_000},
    "topics": [
        {"name": "registry.child.v1", "owner": "registry", "data_class": "pseudonymous", "key": "child_id",
         "description": "Children.", "keeps": "Every event for ever."},
        {"name": "referral.case.v2", "owner": "referral", "data_class": "pseudonymous", "key": "case_id",
         "description": "Cases.", "keeps": "Each case's latest.", "partitions": 6, "cleanup_policy": "compact"},
    ],
}


def test_the_repository_catalogue_is_valid() -> None:
    catalogue = load_catalogue()
    names = [spec.name for spec in catalogue.all_topics()]
    assert names
    assert len(names) == 2 * len(catalogue.topics)
    assert all(f"{topic.name}.dlq" in names for topic in catalogue.topics)


def test_defaults_dlq_and_overrides_apply() -> None:
    catalogue = parse_catalogue(copy.deepcopy(GOOD))
    child, case = catalogue.topics
    assert (child.partitions, child.retention_ms, child.cleanup_policy) == (3, -1, "delete")
    assert (case.partitions, case.cleanup_policy) == (6, "compact")
    dlq = catalogue.dlq_of(case)
    assert (dlq.name, dlq.partitions, dlq.retention_ms, dlq.cleanup_policy) == (
        "referral.case.v2.dlq", 1, 2_592_000_000, "delete")
    assert child.configs() == {"retention.ms": "-1", "cleanup.policy": "delete", "min.insync.replicas": "1"}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("partitions", 0, "partitions must be a positive integer"),
        ("partitions", True, "partitions must be a positive integer"),
        ("retention_ms", "forever", "retention_ms must be an integer"),
        ("cleanup_policy", "shred", "cleanup_policy must be one of"),
        ("data_class", "secret", "data_class 'secret' is not one of"),
        ("owner", "identity", "must be the producer the name starts with"),
        ("key", "", "`key` is required"),
        ("keeps", "", "`keeps` is required"),
        ("max_compaction_lag_ms", 0, "max_compaction_lag_ms must be a positive integer"),
        ("colour", "blue", "unknown field(s) colour"),
    ],
)
def test_a_bad_field_is_reported_with_its_entry(field: str, value: Any, expected: str) -> None:
    data = copy.deepcopy(GOOD)
    data["topics"][1][field] = value
    with pytest.raises(CatalogueError, match="topics") as caught:
        parse_catalogue(data, source="topics.yaml")
    message = str(caught.value)
    assert message.startswith("topics.yaml: topics[1] (referral.case.v2): "), message
    assert expected in message


def test_bad_names_duplicates_and_structure_are_reported() -> None:
    data = copy.deepcopy(GOOD)
    data["topics"][0]["name"] = "Registry_Child"
    with pytest.raises(CatalogueError, match=r"topics\[0\] \(Registry_Child\): name must look like"):
        parse_catalogue(data)

    data = copy.deepcopy(GOOD)
    data["topics"].append(copy.deepcopy(data["topics"][0]))
    with pytest.raises(CatalogueError, match=r"topics\[2\] \(registry.child.v1\): duplicate topic name"):
        parse_catalogue(data)

    data = copy.deepcopy(GOOD)
    del data["topics"][0]["name"]
    with pytest.raises(CatalogueError, match=r"topics\[0\]: `name` is required"):
        parse_catalogue(data)

    with pytest.raises(CatalogueError, match="dlq: partitions must be a positive integer"):
        parse_catalogue({**copy.deepcopy(GOOD), "dlq": {"partitions": -1}})
    with pytest.raises(CatalogueError, match="`topics` must be a non-empty list"):
        parse_catalogue({"defaults": GOOD["defaults"]})


def test_a_restricted_topic_must_be_compacted_within_a_bound() -> None:
    """Before: `registry.child-identity.v1` kept every child's names and NIK for ever (`retention_ms: -1`, delete)."""
    data = copy.deepcopy(GOOD)
    data["topics"][0] |= {"data_class": "restricted"}
    with pytest.raises(CatalogueError, match="a restricted topic must be compacted"):
        parse_catalogue(data)
    data["topics"][0] |= {"cleanup_policy": "compact", "max_compaction_lag_ms": 86_400_000, "segment_ms": 3_600_000}
    child = parse_catalogue(data).topics[0]
    assert child.configs() == {"retention.ms": "-1", "cleanup.policy": "compact", "min.insync.replicas": "1",
                               "max.compaction.lag.ms": "86400000", "segment.ms": "3600000"}


def test_every_restricted_topic_of_the_repository_is_compacted_and_every_topic_says_what_it_keeps() -> None:
    catalogue = load_catalogue()
    restricted = [t for t in catalogue.topics if t.data_class is not None and t.data_class.value == "restricted"]
    assert {t.name for t in restricted} >= {"registry.child-identity.v1", "registry.child-referral.v1"}
    assert all(t.cleanup_policy == "compact" and t.max_compaction_lag_ms for t in restricted)
    assert all(t.keeps for t in catalogue.all_topics())
