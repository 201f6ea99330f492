"""Inspect and replay dead-letter topics (`simpul dlq list|replay`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, ConsumerRecord

from simpul_platform.dead_letters import PREFIX, dlq_topic
from simpul_platform.topic_reader import read_topic


@dataclass(frozen=True)
class DeadLetter:
    """One record on a dead-letter topic, with the reason it is there."""

    offset: int
    partition: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers the record had before it was dead-lettered."""
        return [(k, v.encode()) for k, v in self.headers.items() if not k.startswith(PREFIX)]

    def describe(self) -> str:
        """One line for people: where it came from and why it failed."""
        h = self.headers
        return (
            f"{self.partition}:{self.offset}  from {h.get(PREFIX + 'source_topic')}"
            f"[{h.get(PREFIX + 'source_partition')}]@{h.get(PREFIX + 'source_offset')}"
            f"  {h.get('ce_type', '?')} id={h.get('ce_id', '?')}  after {h.get(PREFIX + 'attempts')} attempt(s)"
            f"\n    {h.get(PREFIX + 'error_type')}: {h.get(PREFIX + 'error_message')}"
        )


async def read_dead_letters(bootstrap: str, topic: str) -> list[DeadLetter]:
    """Every record now on `<topic>.dlq`, oldest first."""
    return [_letter(record) for record in await read_topic(bootstrap, dlq_topic(topic))]


def _letter(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
    return DeadLetter(record.offset, record.partition, record.key, record.value or b"", headers)


async def replay(
    bootstrap: str, letters: Iterable[DeadLetter], replacement: bytes | None = None
) -> int:
    """Publish dead letters back to their source topics (optionally with a corrected body); return the count."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    count = 0
    try:
        for letter in letters:
            value = replacement if replacement is not None else letter.value
            source = letter.headers[PREFIX + "source_topic"]
            await producer.send_and_wait(source, value, key=letter.key, headers=letter.original_headers)
            count += 1
    finally:
        await producer.stop()
    return count
