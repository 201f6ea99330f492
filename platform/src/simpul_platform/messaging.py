"""The service's FastStream Kafka broker: idempotent producer, consumers wired to EventConsumer.

No FastStream telemetry middleware: EventConsumer traces each run it applies (continuing or linking the events'
traces) and the relay each batch it publishes; the middleware's own span per polled batch, with its context
extracted from every record's headers, duplicated the consumer's at a cost per record.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import reduce
from operator import or_
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.message import StreamMessage

from simpul_platform.consumer import EventConsumer
from simpul_platform.metrics import METRICS

FASTSTREAM_LOGGER = logging.getLogger("simpul.faststream")


def create_broker(bootstrap_servers: str, client_id: str, *, for_documentation: bool = False) -> KafkaBroker:
    """A broker whose producer is idempotent with acks=all, and whose consumers never validate on their own.

    Consumers receive raw bytes and validate each record themselves (EventConsumer), so one bad record is
    dead-lettered instead of failing its batch. The documentation broker keeps FastStream's validation on only
    because AsyncAPI generation reads the payload models from it.
    """
    options: dict[str, Any] = {} if for_documentation else {"serializer": None}
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=30_000,
        logger=FASTSTREAM_LOGGER,
        log_level=logging.DEBUG,
        **options,
    )


async def _raw_bodies(message: StreamMessage[Any]) -> Any:
    return message.body


Records = tuple[ConsumerRecord[bytes, bytes], ...]


async def _undecoded(records: Records, original: Callable[[Records], Awaitable[StreamMessage[Any]]]
                     ) -> StreamMessage[Any]:
    """FastStream's message for a polled batch, without its decoding of every record's headers: EventConsumer reads
    the raw records (a CloudEvents header that is not UTF-8 dead-letters its record, `CloudEvent.from_headers`;
    other headers are not read), whereas
    FastStream's own parser failed the whole batch on one such header, and the batch was then neither applied nor
    dead-lettered. FastStream builds the message (and its consumer handle) from the first record without headers."""
    message = await original((dataclasses.replace(records[0], headers=()),))
    message.raw_message = records
    message.body = [record.value or b"" for record in records]
    return message


def record_lag(kafka_consumer: Any, records: Sequence[ConsumerRecord[bytes, bytes]], group: str) -> None:
    """Consumer lag per partition after a batch: the partition's high watermark minus the next offset to read."""
    last: dict[TopicPartition, int] = {}
    for record in records:
        last[TopicPartition(record.topic, record.partition)] = record.offset
    for partition, offset in last.items():
        highwater = kafka_consumer.highwater(partition)
        if highwater is not None:
            METRICS.consumer_lag.set(max(0, highwater - offset - 1), {
                "topic": partition.topic, "partition": partition.partition, "consumer": group})


def subscribe(broker: KafkaBroker, consumer: EventConsumer, *, batch_size: int, group: str) -> None:
    """Register the consumer as a batch subscriber in consumer group `group` that commits offsets only after the
    database commit."""
    payload: Any = reduce(or_, consumer.handlers)  # documents the union of handled event models

    async def consume(body: list[Any], message: KafkaMessage) -> None:
        await consumer.process(message.raw_message)
        record_lag(message.consumer, message.raw_message, consumer.name)

    # Resolved here, not as a string: FastStream reads it to document the payload in AsyncAPI.
    consume.__annotations__ |= {"body": list[payload], "message": KafkaMessage}

    consume.__name__ = f"{consumer.name}_{consumer.topic}".replace(".", "_").replace("-", "_")
    broker.subscriber(
        consumer.topic,
        group_id=group,
        batch=True,
        max_records=batch_size,
        batch_timeout_ms=100,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        parser=_undecoded,
        decoder=_raw_bodies,
        title=f"{consumer.topic}:{consumer.name}",
        description=f"Consumed by {consumer.name}; poison records go to {consumer.topic}.dlq.",
    )(consume)
