"""Transactional outbox: events are rows written in the same transaction as the state change they describe."""

from __future__ import annotations

from datetime import UTC, datetime

from opentelemetry import propagate
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from simpul_contracts import Event
from simpul_platform.bulk import insert_rows


class Outbox:
    """Writes events into the service's outbox table; the relay publishes them after commit."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def add(self, session: AsyncSession, *events: Event) -> list[str]:
        """Queue events in the caller's transaction; return their event ids."""
        if not events:
            return []
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # the relay continues the trace of the request that caused the event
        now = datetime.now(UTC)
        rows = [_row(event, carrier.get("traceparent"), now) for event in events]
        if session.get_bind().dialect.name == "postgresql":
            # The transaction's id before its rows draw their `seq`s: a fetch snapshot taken while this transaction
            # holds seqs then lists it as running, which the relay relies on to know when a gap can no longer fill.
            await session.execute(select(func.pg_current_xact_id()))
        await insert_rows(session, self.table, rows)
        return [str(row["event_id"]) for row in rows]


def _row(event: Event, traceparent: str | None, now: datetime) -> dict[str, object]:
    envelope = event.envelope()
    headers = envelope.header_values()
    return {
        "event_id": envelope.id,
        "topic": event.topic,
        "key": event.key,
        "event_type": event.event_type,
        "headers": headers,
        "payload": event.to_bytes(),
        "traceparent": traceparent,
        "created_at": now,
        "sent_at": None,
    }
