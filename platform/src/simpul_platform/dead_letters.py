"""Dead-letter topics: a record that cannot be applied goes to `<topic>.dlq` with the reason in its headers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from sqlalchemy.exc import DBAPIError

from simpul_platform.metrics import METRICS

log = logging.getLogger(__name__)
DLQ_SUFFIX = ".dlq"
MAX_MESSAGE_CHARS = 1000
PREFIX = "dlq_"


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


class DeadLetters:
    """Publishes poison records, with the error and the source coordinates, so a consumer never stalls on one."""

    def __init__(self, broker: KafkaBroker, consumer: str) -> None:
        self.broker = broker
        self.consumer = consumer

    async def send(self, record: ConsumerRecord[bytes, bytes], error: BaseException, attempts: int) -> None:
        """Publish the record unchanged to `<topic>.dlq` and wait for the broker's acknowledgement."""
        headers = {name: value.decode("utf-8", "replace") for name, value in record.headers or ()}
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
        await self.broker.publish(
            record.value or b"", topic=dlq_topic(record.topic), key=record.key, headers=headers
        )
        METRICS.dead_lettered.add(1, {"topic": record.topic, "consumer": self.consumer})
        log.warning(
            "dead-lettered %s[%d]@%d after %d attempt(s): %s",
            record.topic, record.partition, record.offset, attempts, type(error).__name__,
        )
