"""Transactional outbox: events are rows written in the same transaction as the state change they describe."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from opentelemetry import propagate
from sqlalchemy import Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from simpul_contracts import Event
from simpul_contracts.envelope import new_id
from simpul_platform.bulk import insert_rows

TOMBSTONE = "tombstone"  # the `event_type` of an outbox row that is a tombstone (its payload is null)
MAX_RECORD_BYTES = 1_000_000
"""The largest event value the outbox takes. Kafka's defaults bound a record batch (the broker's message.max.bytes,
1,048,588 bytes; the producer's max.request.size, 1,048,576), and the batch also holds the key, the headers (under
1 KB) and its own framing. A larger event would be refused by the broker, and the relay, which publishes in order,
would retry it without end and publish nothing after it."""


class EventTooLarge(ValueError):
    """An event whose value is over MAX_RECORD_BYTES: refused in its transaction, which then commits nothing."""

    def __init__(self, event_type: str, size: int) -> None:
        super().__init__(f"{event_type}: an event of {size} bytes, more than the {MAX_RECORD_BYTES} a Kafka record "
                         "may hold; split the change into smaller ones")


def payload_of(event: Event) -> bytes:
    """The event's record value, refused with EventTooLarge when Kafka would not take it."""
    payload: bytes = event.to_bytes()
    if len(payload) > MAX_RECORD_BYTES:
        raise EventTooLarge(event.event_type, len(payload))
    return payload


@dataclass(frozen=True)
class Tombstone:
    """A Kafka record with a null value for `key` on a compacted `topic`: compaction then drops every earlier
    record of the key. It carries no CloudEvents headers (it is no event), consumers skip it."""

    topic: str
    key: str


class Outbox:
    """Writes events into the service's outbox table; the relay publishes them after commit."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def add(self, session: AsyncSession, *events: Event) -> list[str]:
        """Queue events in the caller's transaction; return their event ids."""
        if not events:
            return []
        traceparent, now = _traceparent(), datetime.now(UTC)
        rows = [_row(event, traceparent, now) for event in events]
        await self._insert(session, rows)
        return [str(row["event_id"]) for row in rows]

    async def add_tombstones(self, session: AsyncSession, *tombstones: Tombstone) -> None:
        """Queue tombstones in the caller's transaction (after what it queued before: they follow its events).

        A tombstone supersedes every earlier record of its key, so the outbox keeps none of them either: the key's
        unsent rows of that topic go now (a row in flight is still published, and the tombstone follows it).
        """
        if not tombstones:
            return
        c = self.table.c
        for t in tombstones:
            await session.execute(delete(self.table).where(c.topic == t.topic, c.key == t.key))
        traceparent, now = _traceparent(), datetime.now(UTC)
        await self._insert(session, [
            {"event_id": f"{TOMBSTONE}-{uuid.uuid4().hex}", "topic": t.topic, "key": t.key, "event_type": TOMBSTONE,
             "source": None, "dataschema": None, "payload": None, "traceparent": traceparent, "created_at": now}
            for t in tombstones])

    async def _insert(self, session: AsyncSession, rows: list[dict[str, object]]) -> None:
        if session.get_bind().dialect.name == "postgresql":
            # The transaction's id before its rows draw their `seq`s: a fetch snapshot taken while this transaction
            # holds seqs then lists it as running, which the relay relies on to know when a gap can no longer fill.
            await session.execute(select(func.pg_current_xact_id()))
        await insert_rows(session, self.table, rows)


def _traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)  # the relay continues the trace of the request that caused the event
    return carrier.get("traceparent")


def _row(event: Event, traceparent: str | None, now: datetime) -> dict[str, object]:
    # The event's CloudEvents attributes, in columns: a fresh id, its time the transaction's `now`, its subject the key.
    return {
        "event_id": new_id(),
        "topic": event.topic,
        "key": event.key,
        "event_type": event.event_type,
        "source": event.source,
        "dataschema": event.dataschema(),
        "payload": payload_of(event),
        "traceparent": traceparent,
        "created_at": now,
    }
