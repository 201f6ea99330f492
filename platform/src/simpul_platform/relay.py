"""The outbox relay: publishes committed outbox rows in order with an idempotent producer, then marks them sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry import context, propagate
from sqlalchemy import Row, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from simpul_platform.database import Database
from simpul_platform.failpoints import failpoint
from simpul_platform.metrics import METRICS

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 10.0


class OutboxRelay:
    """Moves outbox rows to Kafka. Crash-safe: a row is marked sent only after the broker acknowledged it."""

    def __init__(
        self,
        database: Database,
        table: Table,
        broker: KafkaBroker,
        *,
        batch_size: int,
        poll_seconds: float,
        topic_namespace: str = "",
    ) -> None:
        self.database = database
        self.table = table
        self.broker = broker
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.topic_namespace = topic_namespace
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Publish now rather than at the next poll (called after a commit that queued events)."""
        self._wake.set()

    async def run(self) -> None:
        """Relay until cancelled; back off while Kafka or the database is unavailable."""
        backoff = self.poll_seconds
        while True:
            try:
                sent = await self.relay_once()
                backoff = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying in %.1fs", backoff)
                sent = 0
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            if sent < self.batch_size:
                await self._sleep(backoff)

    async def relay_once(self) -> int:
        """Publish one batch of unsent rows; return how many were sent."""
        async with self.database.session() as session, session.begin():
            rows = await self._claim(session)
            if not rows:
                METRICS.outbox_backlog.set(0)
                return 0
            failpoint("outbox.after_fetch")
            await self._publish(rows)
            failpoint("outbox.after_publish")
            sent_at = datetime.now(UTC)
            ids = [row.seq for row in rows]
            await session.execute(update(self.table).where(self.table.c.seq.in_(ids)).values(sent_at=sent_at))
        METRICS.events_published.add(len(rows))
        return len(rows)

    async def backlog(self) -> int:
        """How many committed events wait to be published."""
        async with self.database.session() as session:
            query = select(func.count()).select_from(self.table).where(self.table.c.sent_at.is_(None))
            count = int((await session.execute(query)).scalar_one())
        METRICS.outbox_backlog.set(count)
        return count

    async def _claim(self, session: AsyncSession) -> Sequence[Row[Any]]:
        query = (
            select(self.table)
            .where(self.table.c.sent_at.is_(None))
            .order_by(self.table.c.seq)
            .limit(self.batch_size)
        )
        if not self.database.is_sqlite:
            # Several relay instances may run; each takes rows nobody else holds.
            query = query.with_for_update(skip_locked=True)
        return (await session.execute(query)).all()

    async def _publish(self, rows: Sequence[Row[Any]]) -> None:
        # Sent without waiting one by one, then awaited together: the idempotent producer keeps per-partition
        # order and never duplicates on its own retries.
        pending = [await self._send(row) for row in rows]
        await asyncio.gather(*pending)

    async def _send(self, row: Row[Any]) -> asyncio.Future[Any]:
        carrier = {"traceparent": row.traceparent} if row.traceparent else {}
        token = context.attach(propagate.extract(carrier))
        try:
            future: asyncio.Future[Any] = await self.broker.publish(
                row.payload,
                topic=self.topic_namespace + row.topic,
                key=row.key.encode(),
                headers=dict(row.headers),
                correlation_id=row.event_id,
                no_confirm=True,
            )
        finally:
            context.detach(token)
        return future

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()
