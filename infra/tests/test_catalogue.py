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
        {"name": "registry.child.v1", "owner": "registry", "data_class": "restricted", "key": "child_id",
         "description": "Children."},
        {"name": "referral.case.v2", "owner": "referral", "data_class": "pseudonymous", "key": "case_id",
         "description": "Cases.", "partitions": 6, "cleanup_policy": "compact"},
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
