"""Inspect and replay dead-letter topics (`simpul dlq list|replay`).

A sealed dead letter (of a restricted topic, `simpul_platform.dead_letters`) is listed without its value and opened
for replay with the field keyring of the service that dead-lettered it, from that service's own setting
(`<SERVICE>_FIELD_KEYRING`; the development keyring when unset, as the service itself does).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, ConsumerRecord
from pydantic import SecretStr

from simpul_platform.dead_letters import PREFIX, SEALED, dlq_topic, open_value
from simpul_platform.field_encryption import FieldEncryptionError, InvalidTokenError, Keyring, keyring_from
from simpul_platform.topic_reader import read_topic


class SealedLetterError(InvalidTokenError):
    """A sealed dead letter does not open with the keyring given (not its service's, or tampered with)."""


def service_keyring(service: str) -> Keyring:
    """The field keyring a service runs with, from its `<SERVICE>_FIELD_KEYRING` setting."""
    setting = os.environ.get(f"{service.upper()}_FIELD_KEYRING")
    return keyring_from(SecretStr(setting) if setting else None)


@dataclass(frozen=True)
class DeadLetter:
    """One record on a dead-letter topic, with the reason it is there."""

    offset: int
    partition: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def sealed(self) -> bool:
        """Whether the value is sealed (a restricted topic's record)."""
        return SEALED in self.headers

    def original_value(self, keyrings: Callable[[str], Keyring] = service_keyring) -> bytes:
        """The record's value as it was on its source topic (a sealed one opened with its consumer's keyring)."""
        if not self.sealed:
            return self.value
        h = self.headers
        service = h[PREFIX + "consumer"]
        try:
            return open_value(keyrings(service), self.value, h[PREFIX + "source_topic"],
                              h[PREFIX + "source_partition"], h[PREFIX + "source_offset"])
        except FieldEncryptionError:
            raise SealedLetterError(
                f"dead letter {self.partition}:{self.offset} is sealed by {service}: replay it with "
                f"{service.upper()}_FIELD_KEYRING set to that service's keyring") from None

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
            f"{'  (value sealed)' if self.sealed else ''}"
            f"\n    {h.get(PREFIX + 'error_type')}: {h.get(PREFIX + 'error_message')}"
        )


async def read_dead_letters(bootstrap: str, topic: str) -> list[DeadLetter]:
    """Every record now on `<topic>.dlq`, oldest first."""
    return [_letter(record) for record in await read_topic(bootstrap, dlq_topic(topic))]


def _letter(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
    return DeadLetter(record.offset, record.partition, record.key, record.value or b"", headers)


async def replay(
    bootstrap: str, letters: Iterable[DeadLetter], replacement: bytes | None = None,
    keyrings: Callable[[str], Keyring] = service_keyring,
) -> int:
    """Publish dead letters back to their source topics (optionally with a corrected body), sealed ones opened with
    their consumer's keyring (`keyrings` of its service name); return the count."""
    letters = list(letters)
    values = [replacement if replacement is not None else letter.original_value(keyrings) for letter in letters]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    count = 0
    try:
        for letter, value in zip(letters, values, strict=True):
            source = letter.headers[PREFIX + "source_topic"]
            await producer.send_and_wait(source, value, key=letter.key, headers=letter.original_headers)
            count += 1
    finally:
        await producer.stop()
    return count
