"""The outbox relay: publishes committed outbox rows in order with an idempotent producer, then deletes them.

One relay per outbox publishes (`PublisherLock`); others stand by. The active relay pipelines: while the acks of
earlier batches are awaited and those batches are deleted, it already fetches and sends the next one.

- Order: every send is issued by one task, in `seq` order, on one idempotent producer, which keeps the order per
  partition. A row that commits after rows with a higher `seq` were fetched goes out with the next batch. That never
  reorders one key: a key's next event is written only after its previous one committed (the aggregate's row lock),
  so whenever a fetch sees the later event it sees the earlier one too, and takes it first.
- Crash safety: a row is deleted only after Kafka acknowledged it. A relay killed in between leaves it in the
  outbox; the relay that takes over finds it on the topic's tail (`relay_takeover`) and deletes it without
  publishing again.
- Deleting, not marking: the topic is the record of what was sent, so a sent row has nothing left to say, and
  restricted payloads (names, NIK) leave the database as soon as they are on Kafka. A DELETE also costs PostgreSQL
  a fraction of an UPDATE that writes the row anew with every index entry. The deletes lag the sends; rows go by
  `seq`, never by a high-water mark, which would also take a late-committed row that was never fetched.
- Fetching (PostgreSQL): the next fetch reads past the highest `seq` fetched so far (`_Cursor`), plus the `seq`s
  below it that may still commit late: the gaps between fetched `seq`s, and at activation everything under the
  first row fetched. A gap is given up only when it can no longer commit: every transaction that was running when
  the gap was seen has ended (the fetch snapshot's xmin passed the xmax of the snapshot that saw the gap; `Outbox`
  takes its transaction id before it draws `seq`s, so a writer holding a `seq` is in that snapshot's horizon) and a
  grace period passed. SQLite has a single writer: it fetches the unsent rows not in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from opentelemetry import propagate, trace
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Row,
    Table,
    Text,
    all_,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from simpul_contracts.envelope import header_values
from simpul_platform.database import Database
from simpul_platform.failpoints import failpoint
from simpul_platform.metrics import METRICS
from simpul_platform.publisher_lock import PublisherLock
from simpul_platform.relay_takeover import published_ids

log = logging.getLogger(__name__)
tracer = trace.get_tracer("simpul.outbox")
MAX_BACKOFF_SECONDS = 10.0
BACKLOG_EVERY_SECONDS = 10.0  # counting a long backlog scans it: now and then is enough for a gauge
GAP_GRACE_SECONDS = 1.0  # a gap under the high-water is kept at least this long, whatever the snapshots say
MURMUR2_M = 0x5BD1E995
MASK32 = 0xFFFFFFFF
WORDS = [struct.Struct(f"<{n}I") for n in range(64)]  # little-endian 32-bit words of keys up to 255 bytes


@dataclass
class _Batch:
    seqs: list[int]
    topics: list[str]
    acks: list[asyncio.Future[Any]]


@dataclass
class _Gap:
    """`seq`s not seen by a fetch that saw higher ones: until `horizon` has passed, they may still commit."""

    horizon: int  # xmax of the snapshot that saw the gap: every writer holding one of its seqs has a lower xid
    seen: float  # monotonic time it was seen


@dataclass
class _Cursor:
    """Where the next fetch of one activation reads (PostgreSQL): past `high`, under `below`, and the gaps.

    Every row fetched is either above the previous `high`, a gap, or (just after activation) under `below`; only
    the last can be in flight while still unsent, so only those are excluded by `seq`.
    """

    high: int | None = None  # the highest seq fetched in this activation
    below: int | None = None  # seqs under the first row fetched may still commit late ...
    below_gap: _Gap | None = None  # ... until this gap is over
    gaps: dict[int, _Gap] = field(default_factory=dict)

    def condition(self, seq: ColumnElement[int], in_flight: set[int]) -> ColumnElement[bool] | None:
        """Which unsent rows the next fetch reads (None: all of them, nothing fetched yet)."""
        if self.high is None:
            return None
        parts = [seq > self.high]
        if self.gaps:
            parts.append(seq == any_(_seqs(self.gaps, "gaps")))
        if self.below is not None:
            flying = [n for n in in_flight if n < self.below]
            parts.append(and_(seq < self.below, seq != all_(_seqs(flying, "flying"))) if flying else seq < self.below)
        return or_(*parts)

    def advance(self, seqs: Sequence[int], limit: int, xmin: int, xmax: int) -> None:
        """Note a fetch's rows (in `seq` order) and its snapshot: fill gaps, give up expired ones, open new ones."""
        now = time.monotonic()
        self._forget(seqs, limit, xmin, now)
        fresh = [seq for seq in seqs if self.high is None or seq > self.high]
        if not fresh:
            return
        if self.high is None:
            self.below, self.below_gap = fresh[0], _Gap(xmax, now)
        previous = fresh[0] if self.high is None else self.high
        for seq in fresh:
            if seq > previous + 1:  # nearly always consecutive: a gap is rare
                self.gaps.update((missing, _Gap(xmax, now)) for missing in range(previous + 1, seq))
            previous = seq
        self.high = previous

    def _forget(self, seqs: Sequence[int], limit: int, xmin: int, now: float) -> None:
        # A gap under the last row of a full batch, or any gap when the batch was not full, was read by this fetch.
        read_to = seqs[-1] if len(seqs) >= limit else None
        for seq in seqs if self.gaps else ():
            self.gaps.pop(seq, None)
        for seq, gap in list(self.gaps.items()):
            if (read_to is None or seq < read_to) and self._over(gap, xmin, now):
                del self.gaps[seq]
        below, below_gap = self.below, self.below_gap
        if below is not None and below_gap is not None and (read_to is None or below <= read_to) \
                and self._over(below_gap, xmin, now):
            self.below, self.below_gap = None, None

    @staticmethod
    def _over(gap: _Gap, xmin: int, now: float) -> bool:
        # Every transaction that was running when the gap was seen has ended, and it has been kept a while.
        return xmin >= gap.horizon and now - gap.seen >= GAP_GRACE_SECONDS


@dataclass
class _Pipeline:
    """Batches between their send and their deletion: at most `slots` of them; their rows are not fetched again."""

    slots: asyncio.Semaphore
    sent: asyncio.Queue[_Batch] = field(default_factory=asyncio.Queue)
    in_flight: set[int] = field(default_factory=set)
    cursor: _Cursor = field(default_factory=_Cursor)


class OutboxRelay:
    """Moves outbox rows to Kafka in commit order, deleting each once Kafka acknowledged it."""

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
        in_flight_batches: int = 4,
        standby_seconds: float = 2.0,
    ) -> None:
        self.database = database
        self.table = table
        self.bootstrap_servers = bootstrap_servers
        self.max_batch_bytes = max_batch_bytes
        self._producer: AIOKafkaProducer | None = None
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.topic_namespace = topic_namespace
        self.in_flight_batches = in_flight_batches
        self._arrays = not database.is_sqlite
        self.lock = PublisherLock(database, table.fullname, standby_seconds=standby_seconds)
        self.published = 0  # rows acknowledged and deleted by this relay
        self._wake = asyncio.Event()
        self._backlog_at = 0.0
        self._partitions: dict[str, list[int]] = {}

    @property
    def producer(self) -> AIOKafkaProducer:
        """The relay's producer; it exists between `start` and `stop`."""
        if self._producer is None:
            raise RuntimeError("outbox relay not started")
        return self._producer

    async def start(self) -> None:
        """Connect the producer (created here: aiokafka needs the running event loop)."""
        if self._producer is not None:
            return
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            client_id="simpul-outbox-relay",
            enable_idempotence=True,  # broker-side dedupe of the producer's own retries, order kept per partition
            acks="all",
            linger_ms=5,
            # aiokafka's 16 KiB default sends a 500-row batch of 1 KB events in ~11 sequential requests.
            max_batch_size=self.max_batch_bytes,
            request_timeout_ms=30_000,
        )
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        self._producer = producer

    async def stop(self) -> None:
        """Flush and close the producer."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    def wake(self) -> None:
        """Publish now rather than at the next poll (called after a commit that queued events)."""
        self._wake.set()

    async def run(self) -> None:
        """Relay until cancelled: stand by while another relay publishes; back off while Kafka or the database fail."""
        backoff = self.poll_seconds
        while True:
            published = self.published
            try:
                await self.start()
                async with self.lock.held() as connection:
                    await self._publish(connection)
            except asyncio.CancelledError:
                raise
            except Exception as failure:
                backoff = self.poll_seconds if self.published > published else min(backoff * 2, MAX_BACKOFF_SECONDS)
                cause = _first(failure)
                log.error("outbox relay failed; retrying in %.1fs", backoff,
                          exc_info=(type(cause), cause, cause.__traceback__))
                with contextlib.suppress(Exception):
                    await self.stop()  # a fresh producer: nothing of a failed send lingers in it
                await self._sleep(backoff)

    async def backlog(self) -> int:
        """How many committed events wait to be published."""
        async with self.database.session() as session:
            query = select(func.count()).select_from(self.table)
            count = int((await session.execute(query)).scalar_one())
        METRICS.outbox_backlog.set(count)
        return count

    async def _publish(self, connection: AsyncConnection) -> None:
        await self._settle_takeover(connection)
        pipeline = _Pipeline(slots=asyncio.Semaphore(self.in_flight_batches))
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._fetch_and_send(connection, pipeline))
            tasks.create_task(self._delete_acknowledged(pipeline))

    async def _settle_takeover(self, connection: AsyncConnection) -> None:
        """Delete what an earlier relay published without deleting it (see `relay_takeover`)."""
        window = (self.in_flight_batches + 1) * self.batch_size
        c = self.table.c
        query = select(c.seq, c.event_id, c.topic).order_by(c.seq).limit(window)
        unsent = (await connection.execute(query)).all()
        await connection.commit()
        if not unsent:
            return
        on_topics = await published_ids(
            self.bootstrap_servers, {self.topic_namespace + row.topic for row in unsent}, depth=window
        )
        published = [row for row in unsent if row.event_id in on_topics]
        if published:
            await self._delete_sent([row.seq for row in published])
            log.info("outbox relay: %d events published before the takeover are deleted", len(published))

    async def _fetch_and_send(self, connection: AsyncConnection, pipeline: _Pipeline) -> None:
        while True:
            await pipeline.slots.acquire()
            rows = await self._fetch(connection, pipeline)
            if not rows:
                pipeline.slots.release()
                METRICS.outbox_backlog.set(0)
                await self._sleep(self.poll_seconds)
                continue
            failpoint("outbox.after_fetch")
            # Read once by position (a Row's attribute look-up costs more than the tuple's index, per row and use).
            seqs, topics = [row[0] for row in rows], [row[2] for row in rows]
            pipeline.in_flight.update(seqs)
            pipeline.sent.put_nowait(_Batch(seqs, topics, await self._send_all(rows)))
            if len(rows) == self.batch_size:
                await self._measure_backlog()

    async def _delete_acknowledged(self, pipeline: _Pipeline) -> None:
        while True:
            batch = await pipeline.sent.get()
            await asyncio.gather(*batch.acks)
            failpoint("outbox.after_publish")
            await self._delete_sent(batch.seqs)
            pipeline.in_flight.difference_update(batch.seqs)
            pipeline.slots.release()
            self.published += len(batch.seqs)
            for topic, count in Counter(batch.topics).items():
                METRICS.events_published.add(count, {"topic": self.topic_namespace + topic})

    async def _fetch(self, connection: AsyncConnection, pipeline: _Pipeline) -> Sequence[Row[Any]]:
        c, in_flight = self.table.c, pipeline.in_flight
        # Only what is sent: timestamps and the other columns would be decoded for nothing.
        columns = (c.seq, c.event_id, c.topic, c.key, c.event_type, c.source, c.dataschema, c.payload, c.traceparent,
                   c.created_at)
        query = select(*columns).order_by(c.seq).limit(self.batch_size)
        if not self._arrays:  # SQLite
            rows = (await connection.execute(query.where(c.seq.not_in(in_flight)) if in_flight else query)).all()
            await connection.commit()
            return rows
        cursor = pipeline.cursor
        condition = cursor.condition(c.seq, in_flight)
        if condition is not None:
            query = query.where(condition)
        # The snapshot that read the rows, from the same statement (one scalar subquery each, evaluated once).
        rows = (await connection.execute(query.add_columns(_SNAPSHOT_XMIN, _SNAPSHOT_XMAX))).all()
        await connection.commit()
        if rows:
            cursor.advance([row[0] for row in rows], self.batch_size, rows[0]._xmin, rows[0]._xmax)
        return rows

    async def _delete_sent(self, seqs: Sequence[int]) -> None:
        sent = self.table.c.seq == any_(_seqs(seqs, "seqs")) if self._arrays else self.table.c.seq.in_(seqs)
        async with self.database.session() as session, session.begin():
            await session.execute(delete(self.table).where(sent))

    async def _measure_backlog(self) -> None:
        # Busy: measure what is still waiting, now and then (idle means zero).
        if time.monotonic() - self._backlog_at >= BACKLOG_EVERY_SECONDS:
            self._backlog_at = time.monotonic()
            await self.backlog()

    async def _send_all(self, rows: Sequence[Row[Any]]) -> list[asyncio.Future[Any]]:
        """Append the rows, in order, to one record batch per partition; return the batches' acks."""
        traced = self._trace_headers(rows)
        acks: list[asyncio.Future[Any]] = []
        builders: dict[tuple[str, int], Any] = {}
        namespace, known_partitions = self.topic_namespace, self._partitions
        for row in rows:  # the columns `_fetch` selects, in its order (a snapshot's bounds may follow)
            stored_topic, stored_key, payload, traceparent = row[2], row[3], row[7], row[8]
            topic, key = namespace + stored_topic, stored_key.encode()
            partitions = known_partitions.get(topic) or await self._partitions_of(topic)
            # The producer's default partitioner (murmur2 of the key), so a key's partition is the one it always had.
            target = (topic, partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)])
            builder = builders.get(target) or builders.setdefault(target, self.producer.create_batch())
            headers = [] if payload is None else _event_headers(row)  # a tombstone has no CloudEvents headers
            headers += traced[stored_topic, traceparent]
            if builder.append(timestamp=None, key=key, value=payload, headers=headers) is None:  # full
                acks.append(await self.producer.send_batch(builder, topic, partition=target[1]))
                builders[target] = builder = self.producer.create_batch()
                builder.append(timestamp=None, key=key, value=payload, headers=headers)
        for (topic, partition), builder in builders.items():
            acks.append(await self.producer.send_batch(builder, topic, partition=partition))
        return acks

    async def _partitions_of(self, topic: str) -> list[int]:
        self._partitions[topic] = partitions = sorted(await self.producer.partitions_for(topic))
        return partitions

    def _trace_headers(self, rows: Sequence[Row[Any]]) -> dict[tuple[str, str | None], list[tuple[str, bytes]]]:
        """One publish span per topic and stored trace in the batch; its context travels with those rows."""
        groups: dict[tuple[str, str | None], list[Row[Any]]] = defaultdict(list)
        for row in rows:
            groups[row[2], row[8]].append(row)  # topic, traceparent
        return {group: self._publish_span(self.topic_namespace + group[0], group[1], members)
                for group, members in groups.items()}

    def _publish_span(self, topic: str, traceparent: str | None, rows: list[Row[Any]]) -> list[tuple[str, bytes]]:
        # The span continues the trace of the request that wrote the rows (a span per row costs more than the send).
        stored = propagate.extract({"traceparent": traceparent} if traceparent else {})
        attributes: dict[str, str | int] = {"messaging.system": "kafka", "messaging.destination.name": topic,
                                            "messaging.batch.message_count": len(rows)}
        if len(rows) == 1:
            attributes |= {"messaging.message.id": rows[0].event_id, "messaging.kafka.message.key": rows[0].key}
        with tracer.start_as_current_span(f"{topic} publish", context=stored, kind=trace.SpanKind.PRODUCER,
                                          attributes=attributes):
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
        return [(name, value.encode()) for name, value in carrier.items()]

    async def _sleep(self, seconds: float) -> None:
        # asyncio.timeout, not wait_for: Python 3.11's wait_for returns normally when it is cancelled just as the event
        # is set, and loses the cancellation; the relay then went on polling after its service's shutdown had
        # cancelled it, and the shutdown waited for it without end (a CI run's 300 s test timeout).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        self._wake.clear()


def _event_headers(row: Row[Any]) -> list[tuple[str, bytes]]:
    """The CloudEvents binary-mode headers of an outbox row (the columns `_fetch` selects; its subject is the key;
    SQLite gives UTC times back naive)."""
    _, event_id, _, subject, event_type, source, dataschema, _, _, at = row[:10]
    time: datetime = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    values = header_values(id=event_id, source=source, type=event_type, time=time, subject=subject,
                           dataschema=dataschema)
    return [(name, value.encode()) for name, value in values.items()]


def _seqs(seqs: Iterable[int], name: str) -> Any:
    # One array parameter instead of one parameter per row: compiling those costs more than the query. Sent as the
    # array's text form and cast by the server: asyncpg would check every element of a list parameter in Python.
    literal = "{" + ",".join(map(str, seqs)) + "}"
    return cast(bindparam(name, literal, type_=Text), ARRAY(BigInteger))


def _snapshot_bound(function: Any, label: str) -> Any:
    xid = select(cast(cast(function(func.pg_current_snapshot()), Text), BigInteger)).scalar_subquery()
    return xid.label(label)


_SNAPSHOT_XMIN = _snapshot_bound(func.pg_snapshot_xmin, "_xmin")
_SNAPSHOT_XMAX = _snapshot_bound(func.pg_snapshot_xmax, "_xmax")


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 of a key, as aiokafka's DefaultPartitioner computes it (same values, about twice as fast)."""
    length = len(data)
    h = 0x9747B28C ^ length
    words = length >> 2
    m = MURMUR2_M
    for word in (WORDS[words] if words < len(WORDS) else struct.Struct(f"<{words}I")).unpack_from(data):
        k = word * m & MASK32
        h = (h * m ^ (k ^ k >> 24) * m) & MASK32  # one mask for both products: masking distributes over xor
    tail = length & 3
    if tail:
        if tail == 3:
            h ^= data[length - 1] << 16
        if tail >= 2:
            h ^= data[length - tail + 1] << 8
        h = ((h ^ data[length - tail]) * MURMUR2_M) & MASK32
    h ^= h >> 13
    h = (h * MURMUR2_M) & MASK32
    return h ^ (h >> 15)


def _first(failure: BaseException) -> BaseException:
    """The first real error inside the task group's exception group."""
    while isinstance(failure, BaseExceptionGroup) and failure.exceptions:
        failure = failure.exceptions[0]
    return failure
