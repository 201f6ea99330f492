"""Read and write topics directly, as an integrator would."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer, ConsumerRecord

from simpul_contracts import Event


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
