"""Topic provisioning against the real session broker."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Awaitable, Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from simpul_infra import topics
from simpul_infra.catalogue import TopicSpec

pytestmark = pytest.mark.kafka


def _unique_catalogue() -> topics.Catalogue:
    suffix = uuid.uuid4().hex[:8]
    return topics.parse_catalogue({
        "defaults": {"partitions": 3, "retention_ms": -1},
        "dlq": {"partitions": 1, "retention_ms": 86_400_000},
        "topics": [
            {"name": f"itest.alpha-{suffix}.v1", "owner": "itest", "data_class": "aggregate", "key": "id",
             "description": "Alpha.", "keeps": "Everything."},
            {"name": f"itest.beta-{suffix}.v1", "owner": "itest", "data_class": "aggregate", "key": "id",
             "description": "Beta.", "keeps": "An hour.", "partitions": 2, "retention_ms": 3_600_000},
        ],
    })


async def test_session_broker_has_the_catalogue_topics(kafka_bootstrap: str) -> None:
    counts = await topics.partition_counts(kafka_bootstrap)
    for spec in topics.load_catalogue().all_topics():
        assert counts.get(spec.name) == spec.partitions, spec.name


async def test_provisioning_is_idempotent_and_creates_dlqs(kafka_bootstrap: str) -> None:
    catalogue = _unique_catalogue()
    first = await topics.provision(kafka_bootstrap, catalogue)
    wanted = {spec.name: spec.partitions for spec in catalogue.all_topics()}
    assert sorted(first.created) == sorted(wanted)
    assert not first.existing

    second = await topics.provision(kafka_bootstrap, catalogue)
    assert not second.created
    assert sorted(second.existing) == sorted(wanted)
    assert not second.mismatched

    counts = await topics.partition_counts(kafka_bootstrap)
    assert {name: counts[name] for name in wanted} == wanted
    assert wanted[catalogue.topics[1].name + ".dlq"] == 1


async def test_created_topics_carry_their_configs(kafka_bootstrap: str) -> None:
    catalogue = _unique_catalogue()
    await topics.provision(kafka_bootstrap, catalogue)
    beta = catalogue.topics[1].name
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, beta)])
    finally:
        await admin.close()
    entries = response.to_object()["resources"][0]["config_entries"]
    configs = {entry["config_names"]: entry["config_value"] for entry in entries}
    assert configs["retention.ms"] == "3600000"
    assert configs["cleanup.policy"] == "delete"
    assert configs["min.insync.replicas"] == "1"


async def test_partition_mismatch_is_reported_not_changed(
    kafka_bootstrap: str, make_topic: Callable[..., Awaitable[str]]
) -> None:
    name = await make_topic("mismatch", partitions=1)
    report = await topics.ensure_topics(kafka_bootstrap, [TopicSpec(name=name, partitions=4, retention_ms=-1)])
    assert report.mismatched == [(name, 4, 1)]
    assert any("MISMATCH" in line for line in report.lines())
    assert (await topics.partition_counts(kafka_bootstrap))[name] == 1


async def test_make_topic_creates_unique_topics_with_dlq(
    kafka_bootstrap: str, make_topic: Callable[..., Awaitable[str]]
) -> None:
    first, second = await make_topic("orders", partitions=3), await make_topic("orders")
    assert first != second
    assert first.startswith("orders.")
    counts = await topics.partition_counts(kafka_bootstrap)
    assert (counts[first], counts[first + ".dlq"], counts[second]) == (3, 1, 1)


async def test_unreachable_cluster_is_a_clear_error() -> None:
    with pytest.raises(topics.TopicsError, match=r"cannot reach Kafka at 127\.0\.0\.1:1"):
        await topics.provision("127.0.0.1:1", copy.deepcopy(_unique_catalogue()))


async def test_an_existing_topic_is_aligned_to_the_catalogue(
    kafka_bootstrap: str, make_topic: Callable[..., Awaitable[str]]
) -> None:
    """Before: provisioning left an existing topic alone, so a topic the catalogue made restricted and compacted
    kept deleting (and keeping) nothing on a running cluster."""
    name = await make_topic("restricted", partitions=1)
    compacted = TopicSpec(name=name, partitions=1, retention_ms=-1, cleanup_policy="compact",
                          max_compaction_lag_ms=86_400_000, segment_ms=3_600_000)
    first = await topics.ensure_topics(kafka_bootstrap, [compacted])
    assert [aligned for aligned, _ in first.aligned] == [name]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        await admin.close()
    configs = {e["config_names"]: e["config_value"] for e in response.to_object()["resources"][0]["config_entries"]}
    assert (configs["cleanup.policy"], configs["max.compaction.lag.ms"], configs["segment.ms"]) == (
        "compact", "86400000", "3600000")
    again = await topics.ensure_topics(kafka_bootstrap, [compacted])
    assert again.aligned == []  # nothing left to change
