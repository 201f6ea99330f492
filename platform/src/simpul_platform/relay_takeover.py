"""Taking over an outbox: what a relay that died had published but not yet deleted is on the topics' tails.

The relay deletes a row only after Kafka acknowledged it, so a relay killed between the two leaves published rows
in the outbox. It had at most its in-flight window of rows out, sent in order, so those records are among the last
`depth` of each partition (the relay is the topics' only producer). The relay taking over reads those tails and
deletes the rows it finds instead of publishing them again.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from simpul_platform.topic_reader import partitions_of


async def published_ids(bootstrap: str, topics: Iterable[str], depth: int) -> set[str]:
    """The CloudEvents ids (`ce_id`) among the last `depth` records of every partition of `topics`."""
    partitions = [tp for topic in sorted(set(topics)) for tp in await _partitions(bootstrap, topic)]
    if not partitions:
        return set()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, max(starts[tp], ends[tp] - depth))
        ids: set[str] = set()
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            ids.update(_event_id(record) for records in batch.values() for record in records)
        ids.discard("")
        return ids
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    try:
        return await partitions_of(bootstrap, topic)
    except LookupError:  # nothing was ever published there
        return []


def _event_id(record: ConsumerRecord[bytes, bytes]) -> str:
    for name, value in record.headers or ():
        if name == "ce_id":
            return str(value.decode())
    return ""
