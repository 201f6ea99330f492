"""The inbox: ids of events a consumer has applied, written in the same transaction as the effect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from simpul_platform.bulk import insert_select
from simpul_platform.delivery import Delivery


class Inbox:
    """Remembers which events a named consumer applied, so redelivery changes nothing."""

    def __init__(self, table: Table, consumer: str) -> None:
        self.table = table
        self.consumer = consumer

    async def claim(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> set[str]:
        """Insert the deliveries' ids in the caller's transaction; return those that were new.

        One INSERT ... ON CONFLICT DO NOTHING RETURNING instead of a look-up then an insert: one round trip, no
        dependence on planner statistics for the look-up, and a duplicate being applied concurrently (during a
        rebalance) waits on the row lock and is then skipped instead of failing on the primary key.
        """
        if not deliveries:
            return set()
        # What every row shares travels once, as parameters, not in each row of the document PostgreSQL parses: the
        # consumer, the time and (a consumer's polled batch is of one topic) the topic.
        shared = {"consumer": self.consumer, "processed_at": datetime.now(UTC)}
        rows = [{"event_id": d.envelope.id, "event_type": d.envelope.type, "topic": d.record.topic,
                 "partition": d.record.partition, "offset": d.record.offset} for d in deliveries]
        if len({row["topic"] for row in rows}) == 1:
            shared["topic"] = rows[0]["topic"]
            for row in rows:
                del row["topic"]
        if session.get_bind().dialect.name == "postgresql":  # one statement over the rows' document
            def skip_claimed(into: postgresql.Insert) -> Insert:
                return into.on_conflict_do_nothing().returning(self.table.c.event_id)

            result = await insert_select(session, self.table, rows, skip_claimed, shape="claim", constants=shared)
            return set(result.scalars().all())  # all(): one fetch, not per row
        fallback = sqlite.insert(self.table).on_conflict_do_nothing().returning(self.table.c.event_id)
        return set((await session.execute(fallback, [row | shared for row in rows])).scalars())
