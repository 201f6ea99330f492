"""Idempotent, poison-proof event consumption: apply a batch in one transaction with its inbox rows, then ack.

Offsets are committed by FastStream only after this returns, so the database commit always comes first; an
exception that escapes (database or broker unavailable) makes FastStream seek back and redeliver the batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from opentelemetry import context, propagate, trace
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from simpul_contracts import CloudEvent, ContractError, EnvelopeError, Event, event_types
from simpul_platform.database import Database
from simpul_platform.dead_letters import DeadLetters
from simpul_platform.delivery import Delivery, decode, read_envelope
from simpul_platform.failpoints import failpoint
from simpul_platform.inbox import Inbox
from simpul_platform.metrics import METRICS

log = logging.getLogger(__name__)
tracer = trace.get_tracer("simpul.consumer")
Handler = Callable[[AsyncSession, Any, CloudEvent], Awaitable[None]]


@dataclass(frozen=True)
class BatchHandler:
    """A handler that applies consecutive events of its type together (one bulk statement instead of N)."""

    apply: Callable[[AsyncSession, Sequence[Delivery]], Awaitable[None]]


def in_batches(apply: Callable[[AsyncSession, Sequence[Delivery]], Awaitable[None]]) -> BatchHandler:
    """Register `apply` to receive runs of deliveries rather than one event at a time."""
    return BatchHandler(apply)
Record: TypeAlias = ConsumerRecord[bytes, bytes]
RETRY_PAUSE_SECONDS = 0.2
UNAVAILABLE_PAUSE_SECONDS = 1.0


def is_unavailable(error: BaseException) -> bool:
    """Infrastructure outages are retried forever by redelivery; they say nothing about the record."""
    if isinstance(error, OperationalError | KafkaError | OSError | TimeoutError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


@dataclass
class EventConsumer:
    """Applies the events of one topic for one consumer group, each at most once in effect."""

    name: str
    topic: str
    handlers: Mapping[type[Event], Handler | BatchHandler]
    database: Database
    inbox: Inbox
    dead_letters: DeadLetters
    max_attempts: int = 3
    after_commit: Callable[[], None] = lambda: None
    _known_types: dict[str, type[Event]] = field(default_factory=event_types)

    async def process(self, records: Sequence[Record]) -> None:
        """Handle one polled batch: dead-letter the undecodable, apply the rest exactly once in effect."""
        deliveries = [d for d in [await self._decode(r) for r in records] if d is not None]
        if not deliveries:
            return
        try:
            await self._apply(deliveries)
        except Exception as error:
            if is_unavailable(error):
                await asyncio.sleep(UNAVAILABLE_PAUSE_SECONDS)
                raise
            # One bad event must not hold back the others: apply them one by one to find it.
            for delivery in deliveries:
                await self._apply_with_retries(delivery)

    async def _decode(self, record: Record) -> Delivery | None:
        try:
            envelope = read_envelope(record)
            model = self._known_types.get(envelope.type)
            if model is None:
                raise ContractError(f"ce_type: unknown event type {envelope.type!r}")
            if model not in self.handlers:
                return None  # another consumer's business
            return decode(record, envelope)
        except (EnvelopeError, ContractError) as error:
            await self.dead_letters.send(record, error, attempts=1)
            return None

    async def _apply_with_retries(self, delivery: Delivery) -> None:
        for attempt in range(1, self.max_attempts + 1):
            try:
                await self._apply([delivery])
                return
            except Exception as error:
                if is_unavailable(error):
                    raise
                METRICS.events_failed.add(1, {"consumer": self.name})
                log.warning("%s: attempt %d of %s failed: %s", self.name, attempt, delivery.envelope.id,
                            type(error).__name__)
                if attempt == self.max_attempts:
                    await self.dead_letters.send(delivery.record, error, attempts=attempt)
                    return
                await asyncio.sleep(RETRY_PAUSE_SECONDS * attempt)

    async def _apply(self, deliveries: Sequence[Delivery]) -> None:
        async with self.database.session() as session, session.begin():
            unique = list(_first_of_each(deliveries))
            claimed = await self.inbox.claim(session, unique)
            fresh = [d for d in unique if d.envelope.id in claimed]
            for run in _runs(fresh, self.handlers):
                await self._handle(session, run)
        failpoint("consumer.after_commit")
        duplicates = len(deliveries) - len(fresh)
        METRICS.events_consumed.add(len(fresh), {"consumer": self.name})
        METRICS.events_duplicate.add(duplicates, {"consumer": self.name})
        if duplicates:
            log.info("%s: skipped %d already-applied event(s) on %s", self.name, duplicates, self.topic)
        if fresh:
            self.after_commit()

    async def _handle(self, session: AsyncSession, run: Sequence[Delivery]) -> None:
        handler = self.handlers[type(run[0].event)]
        attributes = {"messaging.system": "kafka", "messaging.destination.name": self.topic,
                      "messaging.consumer.group.name": self.name, "cloudevents.event_type": run[0].envelope.type}
        if isinstance(handler, BatchHandler):
            # One span for the run, linked to the trace of every event in it (OpenTelemetry's batch convention).
            links = [trace.Link(trace.get_current_span(_context_of(d)).get_span_context()) for d in run]
            with tracer.start_as_current_span(f"{self.topic} process", kind=trace.SpanKind.CONSUMER, links=links,
                                              attributes=attributes | {"messaging.batch.message_count": len(run)}):
                await handler.apply(session, run)
            return
        delivery = run[0]
        with tracer.start_as_current_span(
            f"{self.topic} process", context=_context_of(delivery), kind=trace.SpanKind.CONSUMER,
            attributes=attributes | {"messaging.message.id": delivery.envelope.id},
        ):
            await handler(session, delivery.event, delivery.envelope)


def _context_of(delivery: Delivery) -> context.Context:
    return propagate.extract({"traceparent": delivery.traceparent} if delivery.traceparent else {})


def _runs(deliveries: Sequence[Delivery], handlers: Mapping[type[Event], Handler | BatchHandler]
          ) -> Iterable[Sequence[Delivery]]:
    """Consecutive deliveries for the same batch handler together, every other delivery alone: order is kept."""
    run: list[Delivery] = []
    for delivery in deliveries:
        handler = handlers[type(delivery.event)]
        if run and isinstance(handler, BatchHandler) and handlers[type(run[0].event)] is handler:
            run.append(delivery)
            continue
        if run:
            yield run
        run = [delivery]
    if run:
        yield run


def _first_of_each(deliveries: Iterable[Delivery]) -> Iterable[Delivery]:
    seen: set[str] = set()
    for delivery in deliveries:
        if delivery.envelope.id not in seen:
            seen.add(delivery.envelope.id)
            yield delivery
