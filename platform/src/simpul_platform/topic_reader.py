"""Read a whole topic as it stands now, without a consumer group (for operators and tests)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    """The topic's partitions; LookupError when the topic does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if not described or described[0].get("error_code") or not described[0].get("partitions"):
        raise LookupError(f"{topic}: no such topic")
    numbers = sorted(p["partition"] for p in described[0]["partitions"])
    return [TopicPartition(topic, number) for number in numbers]


async def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on `topic` up to its current end, partition by partition, oldest first."""
    partitions = await partitions_of(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            records.extend(r for rs in batch.values() for r in rs)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()
