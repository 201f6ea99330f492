"""The inbox: ids of events a consumer has applied, written in the same transaction as the effect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from simpul_platform.delivery import Delivery


class Inbox:
    """Remembers which events a named consumer applied, so redelivery changes nothing."""

    def __init__(self, table: Table, consumer: str) -> None:
        self.table = table
        self.consumer = consumer

    async def already_applied(self, session: AsyncSession, event_ids: Sequence[str]) -> set[str]:
        """The subset of `event_ids` this consumer has applied before."""
        columns = self.table.c
        query = select(columns.event_id).where(columns.consumer == self.consumer, columns.event_id.in_(event_ids))
        return set((await session.execute(query)).scalars())

    async def record(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        """Mark deliveries applied, in the caller's transaction."""
        if not deliveries:
            return
        now = datetime.now(UTC)
        rows = [
            {
                "consumer": self.consumer,
                "event_id": d.envelope.id,
                "event_type": d.envelope.type,
                "topic": d.record.topic,
                "partition": d.record.partition,
                "offset": d.record.offset,
                "processed_at": now,
            }
            for d in deliveries
        ]
        await session.execute(insert(self.table), rows)
