"""Event-bus throughput: raw aiokafka against our outbox -> relay -> Kafka -> inbox consumer path.

What is measured, with N events of 1 KB each (default 20,000) on a real Kafka broker and a real PostgreSQL:

* RAW: an AIOKafkaProducer (acks=all, idempotent, linger_ms=5; send() futures gathered in chunks) writes N records
  to a fresh 3-partition topic while an AIOKafkaConsumer (consumer group, getmany) reads them back. Time: from the
  first send to the last record consumed.
* OUR PATH: the same N payloads as a bench-only contract event, written with `Outbox.add` in transactions of
  `--tx-batch` events into a fresh database, published by `OutboxRelay` through the broker of
  `messaging.create_broker`, and applied by an `EventConsumer` subscribed with `messaging.subscribe`, whose handler
  inserts one `bench_effects` row per event (the inbox records the event ids in the same transaction). The wiring
  and batch sizes are those of a service with default settings, including its telemetry set-up (OpenTelemetry SDK
  providers, SQLAlchemy instrumentation, JSON logs at INFO); `--bare` leaves telemetry unconfigured. Time: from the
  first outbox write until the poller sees N effect rows; the poller also notes when the outbox was fully written
  and fully published, which gives the stage rates. Correctness is checked afterwards: N effects, N inbox rows,
  no unsent outbox row.

Both consumers join their group before the clock starts. Infrastructure: `--bootstrap` (or KAFKA_BOOTSTRAP_SERVERS)
and `--postgres-url` (an admin URL) when given, else a throwaway Kafka broker and PostgreSQL cluster (fsync off)
started here with simpul_infra and stopped at the end. Figures go to stdout, progress to stderr.

Run:  .venv/bin/python bench/bus.py [--events N] [--bootstrap HOST:PORT] [--postgres-url URL] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import secrets
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from simpul_contracts import CloudEvent, DataClass, Event
from simpul_infra import kafka, postgres
from simpul_infra.pg_server import PostgresServer
from simpul_infra.ports import free_port
from simpul_infra.topics import DLQ_SUFFIX, TopicSpec, ensure_topics
from simpul_platform.consumer import BatchHandler, Handler, in_batches
from simpul_platform.database import Database
from simpul_platform.delivery import Delivery
from simpul_platform.delivery_tables import DeliveryTables, delivery_tables
from simpul_platform.runtime import ServiceRuntime, build_runtime
from simpul_platform.settings import ServiceSettings
from simpul_platform.telemetry import configure_logging, configure_telemetry, trace_engine

PAYLOAD_BYTES = 1024
AIOKAFKA_DEFAULT_BATCH = 16 * 1024
RELAY_BATCH = 256 * 1024  # OutboxRelay's max_batch_bytes default
PARTITIONS = 3
RAW_SEND_CHUNK = 1000
PHASE_TIMEOUT_S = 120.0
SETUP_TIMEOUT_S = 60.0  # topic creation, group join, schema: on top of PHASE_TIMEOUT_S for each path
JOIN_TIMEOUT_S = 30.0
POLL_S = 0.02
TARGET_RATIO = 0.25
TARGET_RATE = 2000.0
DEFAULTS = ServiceSettings()  # a service's default batch sizes and poll interval


class BenchPayloadV1(Event):
    """A 1 KB opaque payload: bench-only, never part of the published contracts."""

    event_type: ClassVar[str] = "simpul.bench.payload.v1"
    topic: ClassVar[str] = "bench.payload.v1"  # physical name: <fresh namespace>bench.payload.v1
    source: ClassVar[str] = "simpul/bench"
    data_class: ClassVar[DataClass] = DataClass.AGGREGATE

    seq: int
    body: str

    @property
    def key(self) -> str:
        """Keyed by sequence number, so events spread over the partitions."""
        return f"bench-{self.seq}"


def progress(message: str) -> None:
    """A progress line on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Infrastructure


@contextlib.contextmanager
def kafka_bootstrap(given: str | None) -> Iterator[str]:
    """The given bootstrap address, else a throwaway single-node broker on free ports."""
    if given:
        yield given
        return
    data_dir = Path(tempfile.mkdtemp(prefix="simpul-bench-kafka-"))
    port, controller_port = free_port(), free_port()
    while controller_port == port:
        controller_port = free_port()
    try:
        progress(f"starting Kafka in {data_dir} ...")
        bootstrap = kafka.start(data_dir, port=port, controller_port=controller_port)
        progress(f"Kafka answers on {bootstrap}")
        yield bootstrap
    finally:
        progress("stopping Kafka ...")
        kafka.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.contextmanager
def postgres_server(admin_url: str | None) -> Iterator[PostgresServer]:
    """The server of the given admin URL, else a throwaway cluster with fsync off."""
    if admin_url:
        yield PostgresServer.from_url(admin_url)
        return
    base = Path(tempfile.mkdtemp(prefix="simpul-bench-pg-"))
    base.chmod(0o755)  # as root the server runs as `postgres`, which must enter it
    try:
        progress(f"starting PostgreSQL in {base} ...")
        server = postgres.start(base / "cluster", fast=True)
        progress(f"PostgreSQL answers on {server.host}:{server.port}")
        yield server
    finally:
        progress("stopping PostgreSQL ...")
        postgres.stop(base / "cluster")
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(server: PostgresServer) -> Iterator[str]:
    """A new, empty database for this run (dropped afterwards); yields its asyncpg URL."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    server.create_database(name)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


async def create_topic(bootstrap: str, name: str) -> None:
    """A fresh 3-partition topic and its dead-letter topic."""
    specs = [TopicSpec(name, PARTITIONS, retention_ms=-1), TopicSpec(name + DLQ_SUFFIX, 1, retention_ms=-1)]
    await ensure_topics(bootstrap, specs)


async def wait_assigned(consumer: AIOKafkaConsumer) -> None:
    """Wait until the group gave the consumer every partition, so joining is not timed."""
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    while len(consumer.assignment()) < PARTITIONS:
        if time.monotonic() > deadline:
            raise TimeoutError(f"consumer not assigned {PARTITIONS} partitions within {JOIN_TIMEOUT_S:.0f} s")
        await asyncio.sleep(POLL_S)


# ---------------------------------------------------------------------------------------------------------------
# RAW aiokafka


async def raw_produce(producer: AIOKafkaProducer, topic: str, payloads: Sequence[bytes]) -> None:
    """Send every payload; await the acknowledgements one chunk at a time."""
    for start in range(0, len(payloads), RAW_SEND_CHUNK):
        chunk = range(start, min(start + RAW_SEND_CHUNK, len(payloads)))
        futures = [await producer.send(topic, payloads[i], key=f"bench-{i}".encode()) for i in chunk]
        await asyncio.gather(*futures)


async def raw_consume(consumer: AIOKafkaConsumer, expected: int) -> float:
    """Read until `expected` records arrived; return the monotonic time of the last one."""
    received = 0
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    while received < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"raw consumer got {received} of {expected} records in {PHASE_TIMEOUT_S:.0f} s")
        batches = await consumer.getmany(timeout_ms=200, max_records=DEFAULTS.consumer_batch_size)
        received += sum(len(records) for records in batches.values())
    return time.monotonic()


async def measure_raw(bootstrap: str, events: int, max_batch_size: int = AIOKAFKA_DEFAULT_BATCH) -> float:
    """Produce and consume concurrently; return the elapsed seconds from first send to last record consumed."""
    topic = f"bench-raw-{uuid.uuid4().hex[:12]}"
    await create_topic(bootstrap, topic)
    payloads = [os.urandom(PAYLOAD_BYTES) for _ in range(events)]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
                                max_batch_size=max_batch_size)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"{topic}-group",
                                auto_offset_reset="earliest", enable_auto_commit=True)
    await producer.start()
    await consumer.start()
    try:
        await wait_assigned(consumer)
        progress(f"raw: producing and consuming {events:,} records on {topic} ...")
        started = time.monotonic()
        _, finished = await asyncio.gather(raw_produce(producer, topic, payloads), raw_consume(consumer, events))
    finally:
        await producer.stop()
        await consumer.stop()
    return finished - started


# ---------------------------------------------------------------------------------------------------------------
# OUR PATH: outbox -> relay -> Kafka -> EventConsumer (inbox) -> PostgreSQL


@dataclass
class Schema:
    """The bench database: the platform's outbox and inbox tables, and the consumer's effect table."""

    metadata: MetaData
    delivery: DeliveryTables
    effects: Table


def bench_schema() -> Schema:
    """Tables defined exactly as a service defines its delivery tables, plus `bench_effects`."""
    metadata = MetaData()
    delivery = delivery_tables(metadata)
    effects = Table(
        "bench_effects",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("seq", Integer, nullable=False),
        Column("body_chars", Integer, nullable=False),
    )
    return Schema(metadata, delivery, effects)


@dataclass
class Timeline:
    """Monotonic instants of the pipelined run (None until reached)."""

    started: float
    written: float | None = None
    published: float | None = None
    applied: float | None = None


@dataclass
class Counts:
    """What the database holds after the run."""

    effects: int
    inbox: int
    unsent: int


@dataclass
class OurResult:
    """The timeline and the final counts of our path."""

    timeline: Timeline
    counts: Counts


def bench_events(events: int) -> list[BenchPayloadV1]:
    """N events whose serialized body is exactly PAYLOAD_BYTES long."""
    overhead = len(BenchPayloadV1(seq=0, body="").to_bytes())
    return [BenchPayloadV1(seq=i, body=secrets.token_hex(PAYLOAD_BYTES)[: PAYLOAD_BYTES - overhead - len(str(i))])
            for i in range(events)]


def effect_handler(effects: Table, *, per_event: bool) -> Handler | BatchHandler:
    """The consumer's effect: one row per applied event, one INSERT per event or one bulk INSERT per run."""

    async def apply(session: AsyncSession, event: BenchPayloadV1, envelope: CloudEvent) -> None:
        await session.execute(insert(effects).values(event_id=envelope.id, seq=event.seq, body_chars=len(event.body)))

    async def apply_run(session: AsyncSession, run: Sequence[Delivery]) -> None:
        rows = [{"event_id": d.envelope.id, "seq": d.event.seq, "body_chars": len(d.event.body)}  # type: ignore[attr-defined]
                for d in run]
        await session.execute(insert(effects), rows)

    return apply if per_event else in_batches(apply_run)


async def write_outbox(runtime: ServiceRuntime, events: Sequence[Event], tx_batch: int) -> None:
    """Queue the events through the outbox, `tx_batch` per transaction (each commit nudges the relay)."""
    for start in range(0, len(events), tx_batch):
        async with runtime.transaction() as session:
            await runtime.outbox.add(session, *events[start : start + tx_batch])


async def count(database: Database, query: Any) -> int:
    """One scalar count."""
    async with database.session() as session:
        return int((await session.execute(query)).scalar_one())


async def final_counts(database: Database, schema: Schema) -> Counts:
    """Effects, inbox rows and unsent outbox rows."""
    outbox, inbox = schema.delivery.outbox, schema.delivery.processed_events
    return Counts(
        effects=await count(database, select(func.count()).select_from(schema.effects)),
        inbox=await count(database, select(func.count()).select_from(inbox)),
        unsent=await count(database, select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))),
    )


async def watch(database: Database, schema: Schema, timeline: Timeline, writer: asyncio.Task[None],
                events: int) -> None:
    """Poll the database until N effects exist, noting when writing and publishing completed."""
    outbox = schema.delivery.outbox
    unsent = select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
    applied = select(func.count()).select_from(schema.effects)
    deadline = timeline.started + PHASE_TIMEOUT_S
    while timeline.applied is None:
        if writer.done():
            writer.result()  # re-raise a failed write
            timeline.written = timeline.written or time.monotonic()
        if timeline.written and timeline.published is None and await count(database, unsent) == 0:
            timeline.published = time.monotonic()
        if await count(database, applied) >= events:
            timeline.applied = time.monotonic()
        elif time.monotonic() > deadline:
            raise TimeoutError(f"our path did not apply {events:,} events within {PHASE_TIMEOUT_S:.0f} s")
        else:
            await asyncio.sleep(POLL_S)


def build_bench_runtime(schema: Schema, database_url: str, bootstrap: str, namespace: str, *,
                        per_event: bool) -> ServiceRuntime:
    """A service runtime (relay, broker, consumer) with a service's defaults, over the bench's own tables."""
    settings = ServiceSettings(service_name="bench", database_url=database_url, kafka_bootstrap_servers=bootstrap,
                               topic_namespace=namespace, migrate_on_start=False)
    runtime = build_runtime(settings, schema.delivery, Path("unused-no-migrations"))
    runtime.consume(BenchPayloadV1.topic, {BenchPayloadV1: effect_handler(schema.effects, per_event=per_event)})
    return runtime


async def run_pipeline(runtime: ServiceRuntime, schema: Schema, events: Sequence[Event], tx_batch: int) -> Timeline:
    """Start relay and consumer, write the events, wait until all are applied."""
    await runtime.start()
    try:
        await wait_assigned(runtime.broker.subscribers[0].consumer)
        topic = runtime.consumers[0].topic
        progress(f"our path: writing, relaying and consuming {len(events):,} events on {topic} ...")
        timeline = Timeline(started=time.monotonic())
        writer = asyncio.create_task(write_outbox(runtime, events, tx_batch))
        await watch(runtime.database, schema, timeline, writer, len(events))
    finally:
        await runtime.stop()  # each shutdown step is bounded there
    return timeline


async def measure_ours(bootstrap: str, database_url: str, args: argparse.Namespace) -> OurResult:
    """Our path end to end on a fresh topic and database; the counts are read after the consumer stopped."""
    namespace = f"bench-{uuid.uuid4().hex[:12]}."
    await create_topic(bootstrap, namespace + BenchPayloadV1.topic)
    schema = bench_schema()
    runtime = build_bench_runtime(schema, database_url, bootstrap, namespace, per_event=args.per_event_handler)
    if not args.bare:
        configure_service_telemetry(runtime.database)
    try:
        async with runtime.database.engine.begin() as connection:
            await connection.run_sync(schema.metadata.create_all)
        timeline = await run_pipeline(runtime, schema, bench_events(args.events), args.tx_batch)
        counts = await final_counts(runtime.database, schema)
    finally:
        await runtime.database.dispose()
    return OurResult(timeline, counts)


# ---------------------------------------------------------------------------------------------------------------
# Report


def rate(events: int, started: float, finished: float | None) -> float | None:
    """Events per second over an interval, None when the interval never closed."""
    return None if finished is None else events / max(finished - started, 1e-9)


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def report(events: int, tx_batch: int, raw_seconds: dict[str, float], ours: OurResult, telemetry: bool) -> None:
    """The figures table, the stage breakdown, the correctness check and the targets."""
    timeline, counts = ours.timeline, ours.counts
    our_rate = rate(events, timeline.started, timeline.applied) or 0.0
    ratios = {label: our_rate * seconds / events for label, seconds in raw_seconds.items()}
    lines = [
        "",
        f"Event bus throughput: {events:,} events of {PAYLOAD_BYTES} B, {PARTITIONS} partitions",
        f"our path: {tx_batch} events per outbox transaction, relay batch {DEFAULTS.outbox_batch_size}, "
        f"consumer batch {DEFAULTS.consumer_batch_size}, telemetry {'on (as a service)' if telemetry else 'off'}",
        "",
        f"{'path':<44}{'seconds':>10}{'events/s':>12}",
        *(f"{'raw aiokafka, ' + label:<44}{seconds:>10.2f}{events / seconds:>12,.0f}"
          for label, seconds in raw_seconds.items()),
        f"{'our path (outbox -> relay -> consumer)':<44}{timeline.applied - timeline.started:>10.2f}"
        f"{our_rate:>12,.0f}" if timeline.applied else "our path: did not finish",
        *(f"{'ratio our / raw, ' + label:<44}{'':>10}{ratio:>11.1%}" for label, ratio in ratios.items()),
        "",
        "stages of our path (pipelined, from the first outbox write):",
    ]
    for label, instant in (("outbox written (Outbox.add, committed)", timeline.written),
                           ("outbox published (relay, all rows sent)", timeline.published),
                           ("events applied (consumer, effects + inbox)", timeline.applied)):
        stage_rate = rate(events, timeline.started, instant)
        seconds = f"{instant - timeline.started:>10.2f}" if instant else f"{'-':>10}"
        lines.append(f"  {label:<42}{seconds}{stage_rate or 0:>12,.0f}")
    correct = counts.effects == events and counts.inbox == events and counts.unsent == 0
    lines += [
        "",
        f"correctness: bench_effects={counts.effects:,} processed_events={counts.inbox:,} "
        f"unsent outbox={counts.unsent:,} -> {verdict(correct)}",
        "",
        "targets:",
        *(f"  our path >= {TARGET_RATIO:.0%} of raw ({label}){'':<{22 - len(label)}}{ratio:>8.1%}       "
          f"{verdict(ratio >= TARGET_RATIO)}" for label, ratio in ratios.items()),
        f"  our path >= {TARGET_RATE:,.0f} events/s    {our_rate:>8,.0f}       {verdict(our_rate >= TARGET_RATE)}",
    ]
    print("\n".join(lines), flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per path (default 20,000)")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
                        help="a running Kafka (default: $KAFKA_BOOTSTRAP_SERVERS, else start one)")
    parser.add_argument("--postgres-url", help="admin URL of a running PostgreSQL (default: start a cluster)")
    parser.add_argument("--tx-batch", type=int, default=500, help="events per outbox transaction (default 500)")
    parser.add_argument("--per-event-handler", action="store_true",
                        help="the consumer's effect as one INSERT per event instead of a batch handler")
    parser.add_argument("--bare", action="store_true", help="our path without a service's telemetry set-up")
    parser.add_argument("--profile", action="store_true", help="cProfile our path; print the hottest functions")
    args = parser.parse_args(argv)
    if args.events < 1 or args.tx_batch < 1:
        parser.error("--events and --tx-batch must be positive")
    return args


def configure_service_telemetry(database: Database) -> None:
    """What a service's lifespan installs: JSON logs, OpenTelemetry providers, SQLAlchemy spans."""
    configure_logging()
    configure_telemetry("bench")
    trace_engine(database.engine.sync_engine)


def component(filename: str, function: str) -> str:
    """Where a profiled function lives: an installed package, a platform module, or a built-in."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if filename == "~":
        return f"built-in {function}"
    return "/".join(Path(filename).parts[-2:])


def print_profile(profile: cProfile.Profile) -> None:
    """Where our path spends its time (own time summed per component, then the hottest functions), on stderr."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    totals: dict[str, float] = {}
    for (filename, _, function), (_, _, own_seconds, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        totals[component(filename, function)] = totals.get(component(filename, function), 0.0) + own_seconds
    grand_total = sum(totals.values()) or 1.0
    print("own time by component (cProfile; 'select.epoll' is the event loop waiting on I/O):", file=out)
    for name, seconds in sorted(totals.items(), key=lambda item: -item[1])[:20]:
        print(f"  {seconds:8.2f} s {seconds / grand_total:6.1%}  {name}", file=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(30)
    print(out.getvalue(), file=sys.stderr)


async def run(args: argparse.Namespace, bootstrap: str, database_url: str) -> None:
    """Both measurements, each with a hard time limit, then the report."""
    progress(f"load average before: {os.getloadavg()[0]:.2f} (figures compare only on a quiet machine)")
    raw_seconds = {}
    for label, batch in (("aiokafka defaults", AIOKAFKA_DEFAULT_BATCH), ("relay's tuning", RELAY_BATCH)):
        async with asyncio.timeout(PHASE_TIMEOUT_S + SETUP_TIMEOUT_S):
            raw_seconds[label] = await measure_raw(bootstrap, args.events, batch)
        progress(f"raw ({label}): {args.events / raw_seconds[label]:,.0f} events/s")
    profile = cProfile.Profile() if args.profile else None
    if profile:
        profile.enable()
    async with asyncio.timeout(PHASE_TIMEOUT_S + SETUP_TIMEOUT_S):
        ours = await measure_ours(bootstrap, database_url, args)
    if profile:
        profile.disable()
        print_profile(profile)
    report(args.events, args.tx_batch, raw_seconds, ours, telemetry=not args.bare)
    progress(f"load average after: {os.getloadavg()[0]:.2f}")


def main(argv: Sequence[str] | None = None) -> None:
    """Bring up (or reach) the infrastructure, measure, report, tear down."""
    args = parse_args(argv)
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the broker and cluster started here are stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.ExitStack() as stack:
        bootstrap = stack.enter_context(kafka_bootstrap(args.bootstrap))
        server = stack.enter_context(postgres_server(args.postgres_url))
        database_url = stack.enter_context(fresh_database(server))
        asyncio.run(run(args, bootstrap, database_url))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        progress("interrupted; the broker and cluster started here were stopped")
        sys.exit(130)
