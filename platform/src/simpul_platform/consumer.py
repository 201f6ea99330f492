"""Idempotent, poison-proof event consumption: apply a batch in one transaction with its inbox rows, then ack.

A batch that fails for a reason other than an outage is halved, each half applied in order as one transaction and a
failing half halved again, until the poison events are single deliveries: each is retried, then dead-lettered alone.
Offsets are committed by FastStream only after this returns, so the database commit always comes first; an
exception that escapes (database or broker unavailable) makes FastStream seek back and redeliver the batch, whose
halves already committed the inbox then skips.
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

from simpul_contracts import ContractError, EnvelopeError, Event, event_types
from simpul_platform.dead_letters import DeadLetters
from simpul_platform.delivery import Delivery, decode, read_envelope
from simpul_platform.failpoints import failpoint
from simpul_platform.metrics import METRICS
from simpul_platform.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
tracer = trace.get_tracer("simpul.consumer")
# A consumer entry point: parse a run of consecutive deliveries of the event types it is registered for, call
# one handler with the unit of work the consumer opened. The consumer commits, with the inbox, once for the whole
# polled batch.
BatchHandler = Callable[[Any, Sequence[Delivery]], Awaitable[None]]
Record: TypeAlias = ConsumerRecord[bytes, bytes]
# The OpenTelemetry SDK keeps 128 links per span by default and drops the rest: extracting more is wasted work.
MAX_LINKS = 128
RETRY_PAUSE_SECONDS = 0.2
UNAVAILABLE_PAUSE_SECONDS = 1.0


# SQLSTATE classes of an unavailable database: connection exception, insufficient resources, operator
# intervention (shutdown, "cannot connect now"), system error.
OUTAGE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})


def is_unavailable(error: BaseException) -> bool:
    """Infrastructure outages are retried forever by redelivery; they say nothing about the record."""
    if isinstance(error, OperationalError | KafkaError | OSError | TimeoutError):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or _sqlstate(error.orig)[:2] in OUTAGE_SQLSTATE_CLASSES
    # A driver error SQLAlchemy did not wrap was raised while connecting, not by a statement: the server refused
    # the connection (a database not accepting connections, too many clients), whatever the record holds.
    return bool(_sqlstate(error))


def _sqlstate(error: BaseException | None) -> str:
    return str(getattr(error, "sqlstate", None) or "")


@dataclass
class EventConsumer:
    """Applies the events of one topic for one consumer group, each at most once in effect."""

    name: str
    topic: str
    handlers: Mapping[type[Event], BatchHandler]
    unit_of_work: Callable[[], UnitOfWork]
    inbox: str
    dead_letters: DeadLetters
    max_attempts: int = 3
    _known_types: dict[str, type[Event]] = field(default_factory=event_types)

    async def process(self, records: Sequence[Record]) -> None:
        """Handle one polled batch: dead-letter the undecodable, apply the rest exactly once in effect."""
        deliveries, refused = [], []
        for record in records:  # a plain function per record, not a coroutine: decoding never waits
            decoded = self._decode(record)
            if isinstance(decoded, Delivery):
                deliveries.append(decoded)
            elif decoded is not None:
                refused.append((record, decoded))
        for record, error in refused:
            await self.dead_letters.send(record, error, attempts=1)
        if not deliveries:
            return
        try:
            await self._apply(deliveries)
        except Exception as error:
            if is_unavailable(error):
                await asyncio.sleep(UNAVAILABLE_PAUSE_SECONDS)
                raise
            # One bad event must not hold back the others: halve the batch to find it.
            await self._apply_halving(deliveries)

    def _decode(self, record: Record) -> Delivery | EnvelopeError | ContractError | None:
        """The record's delivery; None when it is not this consumer's to apply; the error when it is poison."""
        if record.value is None:
            return None  # a tombstone (a compacted topic's erased key): no event, nothing to apply, not poison
        try:
            envelope = read_envelope(record)
            model = self._known_types.get(envelope.type)
            if model is None:
                raise ContractError(f"ce_type: unknown event type {envelope.type!r}")
            if model not in self.handlers:
                return None  # another consumer's business
            return decode(record, envelope, model)
        except (EnvelopeError, ContractError) as error:
            return error

    async def _apply_halving(self, deliveries: Sequence[Delivery]) -> None:
        """Apply deliveries that failed as one transaction: each half, in order, as one transaction, and a half that
        fails halved again, down to a single delivery, which is retried and then dead-lettered alone. One poison
        event among n costs about 2*log2(n) transactions plus its `max_attempts` (a batch of 2,000: ~25, not 2,000);
        a committed half is never applied again."""
        if len(deliveries) == 1:
            await self._apply_with_retries(deliveries[0])
            return
        middle = len(deliveries) // 2
        for half in (deliveries[:middle], deliveries[middle:]):
            if len(half) == 1 or not await self._applied(half):
                await self._apply_halving(half)

    async def _applied(self, deliveries: Sequence[Delivery]) -> bool:
        """Whether the deliveries could be applied as one transaction; an outage re-raises."""
        try:
            await self._apply(deliveries)
        except Exception as error:
            if is_unavailable(error):
                raise
            return False
        return True

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
        async with self.unit_of_work() as uow:
            fresh = await uow.claim(self.inbox, list(_first_of_each(deliveries)))
            for run in _runs(fresh, self.handlers):
                await self._handle(uow, run)
            await uow.commit()
        failpoint("consumer.after_commit")
        duplicates = len(deliveries) - len(fresh)
        METRICS.events_consumed.add(len(fresh), {"consumer": self.name})
        METRICS.events_duplicate.add(duplicates, {"consumer": self.name})
        if duplicates:
            log.info("%s: skipped %d already-applied event(s) on %s", self.name, duplicates, self.topic)

    async def _handle(self, uow: UnitOfWork, run: Sequence[Delivery]) -> None:
        handler = self.handlers[type(run[0].event)]
        attributes: dict[str, str | int] = {"messaging.system": "kafka", "messaging.destination.name": self.topic,
                      "messaging.consumer.group.name": self.name, "cloudevents.event_type": run[0].envelope.type}
        if len(run) == 1:  # a run of one continues its event's trace
            parent, links = _context_of(run[0]), None
            attributes |= {"messaging.message.id": run[0].envelope.id}
        else:  # one span for the run, linked to its events' traces (OpenTelemetry's batch convention)
            parent = None
            # Each distinct trace once: the events of one relay batch share its publish span's context.
            traces = [traceparent for traceparent in dict.fromkeys(d.traceparent for d in run) if traceparent]
            links = [trace.Link(trace.get_current_span(_extracted(traceparent)).get_span_context())
                     for traceparent in traces[:MAX_LINKS]]
            attributes |= {"messaging.batch.message_count": len(run)}
        with tracer.start_as_current_span(f"{self.topic} process", context=parent, kind=trace.SpanKind.CONSUMER,
                                          links=links, attributes=attributes):
            await handler(uow, run)


def _context_of(delivery: Delivery) -> context.Context:
    return _extracted(delivery.traceparent)


def _extracted(traceparent: str | None) -> context.Context:
    return propagate.extract({"traceparent": traceparent} if traceparent else {})


def _runs(deliveries: Sequence[Delivery], handlers: Mapping[type[Event], BatchHandler] | None = None,
          ) -> Iterable[Sequence[Delivery]]:
    """Consecutive deliveries that go to the same handler together (of the same event type when no `handlers`
    are given): the batch's order is kept, and a handler registered for several types gets them as one run."""
    def same(first: Delivery, other: Delivery) -> bool:
        if handlers is None:
            return type(first.event) is type(other.event)
        return handlers[type(first.event)] is handlers[type(other.event)]

    run: list[Delivery] = []
    for delivery in deliveries:
        if run and same(run[0], delivery):
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
