"""Read and write topics directly, as an integrator would."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer, ConsumerRecord
from sqlalchemy import MetaData, func, select

from simpul_contracts import Event
from simpul_platform.delivery_tables import delivery_tables
from simpul_platform.topic_reader import read_topic
from tests.support.database import scalar
from tests.support.stack import eventually

OUTBOX = delivery_tables(MetaData()).outbox


def header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    """One header's value as text."""
    for key, value in record.headers or ():
        if key == name:
            return value.decode()
    return None


async def publish(bootstrap: str, topic: str, value: bytes, headers: list[tuple[str, bytes]], key: bytes) -> None:
    """Produce one raw record."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def publish_event(bootstrap: str, namespace: str, event: Event) -> str:
    """Produce a contract event with a proper envelope; return its event id."""
    envelope = event.envelope()
    await publish(bootstrap, namespace + event.topic, event.to_bytes(), envelope.to_headers(), event.key.encode())
    return envelope.id


async def published_types(url: str, bootstrap: str, namespace: str, topic: str) -> list[str]:
    """The types of the events on one of a running service's topics, in topic order, read once its relay has sent
    every event it committed for the topic (the relay deletes an outbox row only after Kafka acknowledged it)."""
    waiting = select(func.count()).select_from(OUTBOX).where(OUTBOX.c.topic == topic)  # stored without namespace

    async def sent() -> bool | None:
        return await scalar(url, waiting) == 0 or None

    await eventually(sent)
    return [header(record, "ce_type") or "" for record in await read_topic(bootstrap, namespace + topic)]
