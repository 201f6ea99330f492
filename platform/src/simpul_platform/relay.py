"""The outbox relay: publishes committed outbox rows in order with an idempotent producer, then marks them sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from opentelemetry import propagate, trace
from sqlalchemy import Row, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from simpul_platform.database import Database
from simpul_platform.failpoints import failpoint
from simpul_platform.metrics import METRICS

log = logging.getLogger(__name__)
tracer = trace.get_tracer("simpul.outbox")
MAX_BACKOFF_SECONDS = 10.0


class OutboxRelay:
    """Moves outbox rows to Kafka. Crash-safe: a row is marked sent only after the broker acknowledged it."""

    def __init__(
        self,
        database: Database,
        table: Table,
        bootstrap_servers: str,
        *,
        batch_size: int,
        poll_seconds: float,
        topic_namespace: str = "",
        max_batch_bytes: int = 256 * 1024,
    ) -> None:
        self.database = database
        self.table = table
        self.bootstrap_servers = bootstrap_servers
        self.max_batch_bytes = max_batch_bytes
        self._producer: AIOKafkaProducer | None = None
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.topic_namespace = topic_namespace
        self._wake = asyncio.Event()

    @property
    def producer(self) -> AIOKafkaProducer:
        """The relay's producer; it exists between `start` and `stop`."""
        if self._producer is None:
            raise RuntimeError("outbox relay not started")
        return self._producer

    async def start(self) -> None:
        """Connect the producer (created here: aiokafka needs the running event loop)."""
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            client_id="simpul-outbox-relay",
            enable_idempotence=True,  # broker-side dedupe of the producer's own retries, order kept per partition
            acks="all",
            linger_ms=5,
            # aiokafka's 16 KiB default sends a 500-row batch of 1 KB events in ~11 sequential requests.
            max_batch_size=self.max_batch_bytes,
            request_timeout_ms=30_000,
        )
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and close the producer."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def wake(self) -> None:
        """Publish now rather than at the next poll (called after a commit that queued events)."""
        self._wake.set()

    async def run(self) -> None:
        """Relay until cancelled; back off while Kafka or the database is unavailable."""
        backoff = self.poll_seconds
        while True:
            try:
                sent = await self.relay_once()
                if sent == self.batch_size:
                    await self.backlog()  # busy: measure what is still waiting (idle means zero)
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
        for topic, count in Counter(self.topic_namespace + row.topic for row in rows).items():
            METRICS.events_published.add(count, {"topic": topic})
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
        # The publish span continues the trace of the request that wrote the row; its context travels on.
        stored = propagate.extract({"traceparent": row.traceparent} if row.traceparent else {})
        topic = self.topic_namespace + row.topic
        with tracer.start_as_current_span(
            f"{topic} publish",
            context=stored,
            kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": topic,
                        "messaging.message.id": row.event_id, "messaging.kafka.message.key": row.key},
        ):
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            headers = [(name, value.encode()) for name, value in row.headers.items()]
            headers.extend((name, value.encode()) for name, value in carrier.items())
            future: asyncio.Future[Any] = await self.producer.send(
                topic, row.payload, key=row.key.encode(), headers=headers
            )
        return future

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()
