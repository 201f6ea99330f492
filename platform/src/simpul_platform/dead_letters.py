"""Dead-letter topics: a record that cannot be applied goes to `<topic>.dlq` with the reason in its headers.

A dead letter of a restricted topic (names, NIK: `registry.child-identity.v1`, `registry.child-referral.v1`) would
keep those values in clear on its DLQ for the DLQ's retention (30 days), after the source topic has compacted them
away. Its value is therefore sealed under the consumer's field keyring (a v2 field token, bound to the source
coordinates, the original bytes base64 inside) and marked `dlq_sealed`; `simpul dlq replay` opens it with the
consumer service's keyring (`<SERVICE>_FIELD_KEYRING`) and publishes the original record. Keep a retired field key in
the keyring for the DLQ retention after rotating (`simpul keys rotate` does not rewrite Kafka records).
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from sqlalchemy.exc import DBAPIError

from simpul_contracts import DataClass, event_types
from simpul_platform.field_encryption import Keyring, row_key
from simpul_platform.metrics import METRICS

log = logging.getLogger(__name__)
DLQ_SUFFIX = ".dlq"
MAX_MESSAGE_CHARS = 1000
PREFIX = "dlq_"
SEALED = PREFIX + "sealed"
"""Header on a dead letter whose value is sealed (its value: the token version)."""
SEALED_PURPOSE = "dead_letters.value"


def dlq_topic(topic: str) -> str:
    """The dead-letter topic of a topic."""
    return topic + DLQ_SUFFIX


def describe(error: BaseException) -> str:
    """A bounded, data-free description: our own errors name fields; driver errors are reduced to their type,
    because drivers put the offending value in the message (asyncpg: "invalid input for query argument $5: '2014-…'")
    even when SQLAlchemy hides the parameters."""
    if isinstance(error, DBAPIError):
        return f"database error {type(error.orig).__name__} (details withheld: they may contain personal data)"
    text = str(error) or type(error).__name__
    return text[:MAX_MESSAGE_CHARS]


def restricted(topic: str) -> bool:
    """Whether `topic` (with or without a test namespace in front) carries restricted data, as its events declare."""
    return any(topic.endswith(model.topic) and model.data_class is DataClass.RESTRICTED
               for model in event_types().values())


def sealed_row(topic: str, partition: int | str, offset: int | str) -> str:
    """What a sealed dead letter is bound to: the source record's coordinates."""
    return row_key(topic, str(partition), str(offset))


def seal_value(keyring: Keyring, value: bytes, topic: str, partition: int | str, offset: int | str) -> bytes:
    """A record's value as a field token (any bytes: base64 inside)."""
    text = base64.b64encode(value).decode()
    return keyring.encrypt(text, SEALED_PURPOSE, sealed_row(topic, partition, offset)).encode()


def open_value(keyring: Keyring, sealed: bytes, topic: str, partition: int | str, offset: int | str) -> bytes:
    """The original value of a sealed dead letter; InvalidTokenError when it was sealed for another record."""
    text = keyring.decrypt(sealed.decode(), SEALED_PURPOSE, sealed_row(topic, partition, offset))
    return base64.b64decode(text)


class DeadLetters:
    """Publishes poison records, with the error and the source coordinates, so a consumer never stalls on one;
    those of restricted topics sealed under `keyring` (the consumer service's field keyring)."""

    def __init__(self, broker: KafkaBroker, consumer: str, keyring: Keyring | None = None) -> None:
        self.broker = broker
        self.consumer = consumer
        self.keyring = keyring

    async def send(self, record: ConsumerRecord[bytes, bytes], error: BaseException, attempts: int) -> None:
        """Publish the record to `<topic>.dlq` and wait for the broker's acknowledgement: its value and key
        unchanged, its headers as text (bytes that are not UTF-8 replaced, null values left out)."""
        headers = {name: value.decode("utf-8", "replace") for name, value in record.headers or () if value is not None}
        headers.update(
            {
                f"{PREFIX}error_type": type(error).__name__,
                f"{PREFIX}error_message": describe(error),
                f"{PREFIX}source_topic": record.topic,
                f"{PREFIX}source_partition": str(record.partition),
                f"{PREFIX}source_offset": str(record.offset),
                f"{PREFIX}attempts": str(attempts),
                f"{PREFIX}consumer": self.consumer,
                f"{PREFIX}failed_at": datetime.now(UTC).isoformat(),
            }
        )
        value = record.value or b""
        if restricted(record.topic):
            if self.keyring is None:  # never a restricted value in clear on the DLQ
                raise RuntimeError(f"{record.topic} is restricted: dead letters need the service's field keyring")
            value = seal_value(self.keyring, value, record.topic, record.partition, record.offset)
            headers[SEALED] = "v2"
        await self.broker.publish(value, topic=dlq_topic(record.topic), key=record.key, headers=headers)
        METRICS.dead_lettered.add(1, {"topic": record.topic, "consumer": self.consumer})
        log.warning(
            "dead-lettered %s[%d]@%d after %d attempt(s): %s",
            record.topic, record.partition, record.offset, attempts, type(error).__name__,
        )
