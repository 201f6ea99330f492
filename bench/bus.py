"""Event-bus throughput: raw aiokafka against the path a service runs, outbox -> relay -> Kafka -> consumer.

What is measured, with N events (default 100,000: several seconds of steady flow per path; at 20,000 our path ran
about 1.5 s and raw aiokafka 0.4 s, mostly filling and draining) on a real Kafka broker and a real PostgreSQL:

* RAW: an AIOKafkaProducer (acks=all, idempotent, linger_ms=5; send() futures gathered in chunks) writes the same N
  record values our path sends (identity's RecordLinkedV1 as JSON) to a fresh 3-partition topic while an
  AIOKafkaConsumer (consumer group, getmany of a service's consumer batch size) reads them back; once with
  aiokafka's default 16 KiB producer batches and once with the relay's tuning (OutboxRelay.max_batch_bytes).
* OUR PATH, in two processes as in production (the producer plays identity, see bench/bus_producer.py):
  - producer process: its own database; N RecordLinkedV1 events published through the platform's unit of work
    (`uow.publish` + `commit`: Outbox rows, `--tx-batch` events per transaction, each commit waking the relay),
    sent to identity.link.v1 by the OutboxRelay of `build_runtime` with a service's default settings.
  - this process: the reporting service exactly as uvicorn runs it, `reporting.bootstrap.build(settings)` and its
    app's lifespan (JSON logs, OpenTelemetry providers, SQLAlchemy spans, migrations, broker, relay), default
    settings but a fresh database and topic namespace. Its real consumer applies the events: EventConsumer (one
    unit of work per polled batch, inbox claimed in it) -> the identity_links entry point -> contract_mapping ->
    handler remember_record_persons -> SqlRecordPersons (one bulk upsert per run).
  Time: from the go to the producer until the poller sees N record_persons rows; the poller also notes when the
  outbox was fully written and published and when the first event was applied: the stage rates. Correctness
  afterwards: N record_persons rows, N inbox rows, no unsent outbox row. `--bare`: no telemetry set-up anywhere.
* CONSUMER ALONE: a second reporting (its own consumer group, a fresh database) applies the N events already on
  the topic: the consumer's own rate, first applied to last applied.

`--runs K` repeats both paths K times on the same broker and server (fresh topics and database each time) and
prints every run, then min / median / max. Infrastructure: `--bootstrap` (or KAFKA_BOOTSTRAP_SERVERS) and
`--postgres-url` (an admin URL) when given, else a throwaway Kafka broker and PostgreSQL cluster (fsync off)
started here and stopped at the end. Figures go to stdout, progress to stderr.

Run:  .venv/bin/python bench/bus.py [--events N] [--runs K] [--bootstrap HOST:PORT] [--postgres-url URL]
                                   [--bare] [--profile path|consumer|producer]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import inspect
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
# The repository root instead of bench/ (the script's folder): bench/reporting.py would shadow the reporting package.
sys.path[:] = [str(BENCH.parent), *(entry for entry in sys.path if Path(entry or ".").resolve() != BENCH)]

from sqlalchemy import func, select  # noqa: E402

from bench.bus_producer import Order, spawn  # noqa: E402
from bench.bus_support import (  # noqa: E402
    PARTITIONS,
    PHASE_TIMEOUT_S,
    create_catalogue,
    fresh_database,
    kafka_bootstrap,
    measure_raw,
    postgres_server,
    progress,
    subscriber_of,
    wait_assigned,
)
from reporting.adapters.orm import record_persons  # noqa: E402
from reporting.bootstrap import Wiring, build, wire  # noqa: E402
from reporting.config import ReportingSettings  # noqa: E402
from simpul_contracts.events import RecordLinkedV1  # noqa: E402
from simpul_contracts.events.identity import LinkReason  # noqa: E402
from simpul_infra.pg_server import PostgresServer  # noqa: E402
from simpul_platform.database import Database  # noqa: E402
from simpul_platform.relay import OutboxRelay, murmur2  # noqa: E402

AIOKAFKA_DEFAULT_BATCH = 16 * 1024
SETUP_TIMEOUT_S = 90.0  # migrations, topic creation, group join: on top of PHASE_TIMEOUT_S for each path
PRODUCER_PROFILE = os.path.join(tempfile.gettempdir(), f"bench-bus-producer-{os.getpid()}.prof")
WATCH_S = 0.05  # the poller's own queries must not load the path it measures
TARGET_RATIO = 0.25
TARGET_RATE = 10_000.0
VILLAGES = [f"35.09.{d:02d}.{2000 + v}" for d in range(1, 11) for v in range(1, 21)]  # 200 villages
DEFAULTS = ReportingSettings()  # a service's default batch sizes and poll interval


def relay_batch_bytes() -> int:
    """The relay's producer batch size (build_runtime keeps its default), so the raw comparison follows it."""
    return int(inspect.signature(OutboxRelay).parameters["max_batch_bytes"].default)


def link_events(events: int) -> list[RecordLinkedV1]:
    """N link events of N records, two records per person, spread over 200 villages."""
    at = dt.datetime.now(dt.UTC)
    return [RecordLinkedV1(source_system="simpul-registry", source_record_id=f"chd_{i:08d}", person_id=f"prs_{i // 2}",
                           village_code=VILLAGES[i % len(VILLAGES)], reason=LinkReason.NEW_PERSON, linked_at=at)
            for i in range(events)]


@dataclass
class Timeline:
    """Monotonic instants of the pipelined run (None until reached)."""

    started: float
    written: float | None = None
    published: float | None = None
    first_applied: float | None = None
    applied: float | None = None
    cpu_seconds: float | None = None  # this process's CPU time over the run (consumer alone: the consumer's cost)
    producer_cpu_written: float | None = None  # the producer process's CPU until the outbox was written
    producer_cpu_total: float | None = None  # ... until the stop: outbox writes and relay


@dataclass
class Counts:
    """What the database holds after the run."""

    effects: int
    inbox: int
    unsent: int


@dataclass
class Run:
    """One run of both paths: raw seconds per tuning, our timeline and counts, the replay, the load around it."""

    raw_seconds: dict[str, float]
    timeline: Timeline
    counts: Counts
    replay: Timeline
    load: tuple[float, float]


async def count(database: Database, query: Any) -> int:
    """One scalar count."""
    async with database.session() as session:
        return int((await session.execute(query)).scalar_one())


async def final_counts(wiring: Wiring, outbox_database: Database) -> Counts:
    """Effects and inbox rows in reporting's database, unsent rows in the producer's outbox."""
    database, tables = wiring.runtime.database, wiring.runtime.tables
    outbox = tables.outbox
    return Counts(
        effects=await count(database, select(func.count()).select_from(record_persons)),
        inbox=await count(database, select(func.count()).select_from(tables.processed_events)),
        unsent=await count(outbox_database, select(func.count()).select_from(outbox)),
    )


def last_keys(events: Sequence[RecordLinkedV1]) -> list[str]:
    """The key of the last event bound for each partition (the relay's partitioner, murmur2 of the key): the
    consumer applies a partition's events in order, so once these are applied, all are."""
    last: dict[int, str] = {}
    for event in events:
        last[(murmur2(event.key.encode()) & 0x7FFFFFFF) % PARTITIONS] = event.key
    return list(last.values())


async def watch(wiring: Wiring, timeline: Timeline, written: Callable[[], bool], outbox_database: Database,
                events: int, keys: Sequence[str]) -> None:
    """Poll until every event is applied, noting when the outbox was written and published and the first event
    applied. The polls look up the rows of `keys` (`last_keys`, worked out before the clock starts): a count of a
    growing table every 50 ms cost PostgreSQL ~4 us per event, charged to the path it measures. `final_counts`
    counts everything once at the end."""
    outbox = wiring.runtime.tables.outbox
    unsent = select(func.count()).select_from(outbox)  # the relay deletes what Kafka acknowledged
    anything = select(func.count()).select_from(select(record_persons.c.record_key).limit(1).subquery())
    lasts = select(func.count()).select_from(record_persons).where(record_persons.c.record_key.in_(keys))
    deadline = timeline.started + PHASE_TIMEOUT_S
    while timeline.applied is None:
        if timeline.written is None and written():
            timeline.written = time.monotonic()
        if timeline.written and timeline.published is None and await count(outbox_database, unsent) == 0:
            timeline.published = time.monotonic()
        if timeline.first_applied is None and await count(wiring.runtime.database, anything):
            timeline.first_applied = time.monotonic()
        if timeline.first_applied is not None and await count(wiring.runtime.database, lasts) == len(keys):
            timeline.applied = time.monotonic()
        elif time.monotonic() > deadline:
            done = await count(wiring.runtime.database, select(func.count()).select_from(record_persons))
            raise TimeoutError(f"our path applied {done:,} of {events:,} events within {PHASE_TIMEOUT_S:.0f} s")
        else:
            await asyncio.sleep(WATCH_S)


@contextlib.asynccontextmanager
async def running_reporting(settings: ReportingSettings, *, bare: bool) -> AsyncIterator[Wiring]:
    """Reporting started as uvicorn starts it (the app's lifespan), or only its runtime when `bare`."""
    if bare:
        wiring = wire(settings)
        await wiring.runtime.start()
        try:
            yield wiring
        finally:
            await wiring.runtime.stop()
        return
    app = build(settings)
    async with app.router.lifespan_context(app):
        yield app.state.wiring


async def measure_ours(bootstrap: str, urls: tuple[str, str], events: Sequence[RecordLinkedV1],
                       args: argparse.Namespace, namespace: str) -> tuple[Timeline, Counts]:
    """Our path end to end: the producer process's outbox and relay, reporting's consumer here."""
    producer_url, reporting_url = urls
    await create_catalogue(bootstrap, namespace)
    order = Order(producer_url, bootstrap, namespace, len(events), args.tx_batch, telemetry=not args.bare,
                  profile_to=PRODUCER_PROFILE if args.profile == "producer" else None)
    process, signals = spawn(order, events)
    outbox_database = Database(producer_url)
    try:
        if not await asyncio.to_thread(signals.ready.wait, SETUP_TIMEOUT_S):
            raise TimeoutError("the producer process did not start")
        settings = ReportingSettings(database_url=reporting_url, kafka_bootstrap_servers=bootstrap,
                                     topic_namespace=namespace)
        async with running_reporting(settings, bare=args.bare) as wiring:
            await wait_assigned(subscriber_of(wiring.runtime.broker, namespace + RecordLinkedV1.topic))
            progress(f"our path: publishing, relaying and consuming {len(events):,} events under {namespace} ...")
            keys = last_keys(events)
            timeline = Timeline(started=time.monotonic())
            cpu = time.process_time()
            signals.go.set()
            await watch(wiring, timeline, signals.written.is_set, outbox_database, len(events), keys)
            timeline.cpu_seconds = time.process_time() - cpu
            counts = await final_counts(wiring, outbox_database)
    finally:
        signals.stop.set()
        await asyncio.to_thread(process.join, SETUP_TIMEOUT_S)
        if process.is_alive():
            process.kill()
        await outbox_database.dispose()
    timeline.producer_cpu_written = signals.cpu_written.value
    timeline.producer_cpu_total = signals.cpu_total.value
    return timeline, counts


async def measure_replay(bootstrap: str, database_url: str, namespace: str, events: Sequence[RecordLinkedV1],
                         args: argparse.Namespace) -> Timeline:
    """The consumer alone: a second reporting (its own group and fresh database) applies the topic already written."""
    settings = ReportingSettings(database_url=database_url, kafka_bootstrap_servers=bootstrap,
                                 topic_namespace=namespace, service_name="reporting-replay")
    async with running_reporting(settings, bare=args.bare) as wiring:
        progress(f"consumer alone: applying the {len(events):,} events already on the topic ...")
        keys = last_keys(events)
        timeline = Timeline(started=time.monotonic())
        cpu = time.process_time()
        await watch(wiring, timeline, lambda: True, wiring.runtime.database, len(events), keys)
        timeline.cpu_seconds = time.process_time() - cpu
    return timeline


@contextlib.contextmanager
def profiling(profile: cProfile.Profile | None) -> Iterator[None]:
    """Profile the block when a profile is given."""
    if profile is None:
        yield
        return
    profile.enable()
    try:
        yield
    finally:
        profile.disable()


async def one_run(args: argparse.Namespace, bootstrap: str, server: PostgresServer, profile: cProfile.Profile | None,
                  ) -> Run:
    """Both raw tunings, then our path, each with a hard time limit."""
    load_before = os.getloadavg()[0]
    events = link_events(args.events)
    payloads = [event.to_bytes() for event in events]
    raw_seconds = {}
    for label, batch in (("aiokafka defaults", AIOKAFKA_DEFAULT_BATCH), ("relay's tuning", relay_batch_bytes())):
        async with asyncio.timeout(PHASE_TIMEOUT_S + SETUP_TIMEOUT_S):
            raw_seconds[label] = await measure_raw(bootstrap, payloads, batch, DEFAULTS.consumer_batch_size)
        progress(f"raw ({label}): {args.events / raw_seconds[label]:,.0f} events/s")
    namespace = f"bench-{uuid.uuid4().hex[:12]}."
    with (fresh_database(server) as producer_url, fresh_database(server) as reporting_url,
          profiling(profile if args.profile == "path" else None)):
        async with asyncio.timeout(PHASE_TIMEOUT_S + SETUP_TIMEOUT_S):
            timeline, counts = await measure_ours(bootstrap, (producer_url, reporting_url), events, args, namespace)
    with fresh_database(server) as database_url, profiling(profile if args.profile == "consumer" else None):
        async with asyncio.timeout(PHASE_TIMEOUT_S + SETUP_TIMEOUT_S):
            replay = await measure_replay(bootstrap, database_url, namespace, events, args)
    return Run(raw_seconds, timeline, counts, replay, (load_before, os.getloadavg()[0]))


# ---------------------------------------------------------------------------------------------------------------
# Report


def rate(events: int, started: float | None, finished: float | None) -> float:
    """Events per second over an interval, 0 when it never closed."""
    return 0.0 if started is None or finished is None else events / max(finished - started, 1e-9)


def micros(events: int, cpu_seconds: float | None) -> float:
    """CPU microseconds per event, 0 when not measured."""
    return (cpu_seconds or 0.0) * 1e6 / events


def figures(events: int, run: Run) -> dict[str, float]:
    """Every figure of one run, events/s or a ratio, by name."""
    t = run.timeline
    ours = rate(events, t.started, t.applied)
    values = {f"raw aiokafka, {label}": events / seconds for label, seconds in run.raw_seconds.items()}
    values |= {
        "our path, end to end": ours,
        "  outbox written (uow.publish + commit)": rate(events, t.started, t.written),
        "  relay published (all rows sent)": rate(events, t.started, t.published),
        "  consumer applied (first to last)": rate(events, t.first_applied, t.applied),
        "consumer alone (replay, first to last)": rate(events, run.replay.first_applied, run.replay.applied),
        "  consumer CPU, events per CPU-second": events / max(run.replay.cpu_seconds or 0.0, 1e-9),
        "CPU us/event: producer, outbox + relay": micros(events, t.producer_cpu_total),
        "  producer until the outbox was written": micros(events, t.producer_cpu_written),
        "  reporting process during our path": micros(events, t.cpu_seconds),
        "  consumer alone (replay)": micros(events, run.replay.cpu_seconds),
    }
    values |= {f"ratio our / raw, {label}": ours * seconds / events for label, seconds in run.raw_seconds.items()}
    return values


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def correct(events: int, counts: Counts) -> bool:
    """N effects, N inbox rows, nothing left in the outbox."""
    return counts.effects == events and counts.inbox == events and counts.unsent == 0


def show(name: str, value: float) -> str:
    """A figure as events/s or as a percentage."""
    return f"{value:>9.1%}" if name.startswith("ratio") else f"{value:>9,.0f}"


def report(args: argparse.Namespace, runs: Sequence[Run]) -> None:
    """Every run's figures, min / median / max over the runs, correctness and the targets."""
    table = [figures(args.events, run) for run in runs]
    names = list(table[0])
    size = len(link_events(1)[0].to_bytes())
    lines = [
        "",
        f"Event bus throughput: {args.events:,} RecordLinkedV1 events of about {size} B, 3 partitions, "
        f"{len(runs)} run(s)",
        f"our path: reporting as uvicorn runs it ({'bare runtime' if args.bare else 'app lifespan, telemetry on'}), "
        f"{args.tx_batch} events per outbox transaction, relay batch {DEFAULTS.outbox_batch_size} rows / "
        f"{relay_batch_bytes() // 1024} KiB, consumer batch {DEFAULTS.consumer_batch_size}",
        "",
        f"{'events/s (ratio)':<44}" + "".join(f"{'run ' + str(i + 1):>10}" for i in range(len(runs)))
        + f"{'min':>10}{'median':>10}{'max':>10}",
    ]
    for name in names:
        values = [row[name] for row in table]
        cells = [*values, min(values), statistics.median(values), max(values)]
        lines.append(f"{name:<44}" + "".join(f"{show(name, v):>10}" for v in cells))
    lines.append(f"{'load average (1 min) before / after':<44}"
                 + "".join(f"{f'{a:.1f}/{b:.1f}':>10}" for a, b in (run.load for run in runs)))
    ratio_tuned = statistics.median(row["ratio our / raw, relay's tuning"] for row in table)
    ours = statistics.median(row["our path, end to end"] for row in table)
    lines += [
        "",
        "correctness (record_persons, processed_events, unsent outbox): "
        + ", ".join(f"{r.counts.effects:,}/{r.counts.inbox:,}/{r.counts.unsent:,} "
                    f"{verdict(correct(args.events, r.counts))}" for r in runs),
        "targets (medians):",
        f"  our path >= {TARGET_RATIO:.0%} of raw aiokafka with the relay's tuning {ratio_tuned:>8.1%}  "
        f"{verdict(ratio_tuned >= TARGET_RATIO)}",
        f"  our path >= {TARGET_RATE:,.0f} events/s end to end          {ours:>9,.0f}  {verdict(ours >= TARGET_RATE)}",
    ]
    print("\n".join(lines), flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=100_000, help="events per path (default 100,000)")
    parser.add_argument("--runs", type=int, default=1, help="runs of both paths (default 1)")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
                        help="a running Kafka (default: $KAFKA_BOOTSTRAP_SERVERS, else start one)")
    parser.add_argument("--postgres-url", help="admin URL of a running PostgreSQL (default: start a cluster)")
    parser.add_argument("--tx-batch", type=int, default=500, help="events per outbox transaction (default 500)")
    parser.add_argument("--bare", action="store_true", help="reporting's runtime without the app (no telemetry)")
    parser.add_argument("--profile", choices=["path", "consumer", "producer"],
                        help="cProfile reporting's process during our path, the consumer alone, or the producer "
                        "process (outbox writes and relay); print the hottest functions")
    args = parser.parse_args(argv)
    if args.events < 1 or args.tx_batch < 1 or args.runs < 1:
        parser.error("--events, --tx-batch and --runs must be positive")
    return args


def component(filename: str, function: str) -> str:
    """Where a profiled function lives: an installed package, a platform module, or a built-in."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if filename == "~":
        return f"built-in {function}"
    return "/".join(Path(filename).parts[-2:])


def print_profile(stats: pstats.Stats) -> None:
    """Where the time went (own time summed per component, then the hottest functions), on stderr."""
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    totals: dict[str, float] = {}
    for (filename, _, function), (_, _, own_seconds, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        totals[component(filename, function)] = totals.get(component(filename, function), 0.0) + own_seconds
    grand_total = sum(totals.values()) or 1.0
    print("own time by component (cProfile; 'select.epoll' is the event loop waiting on I/O):", file=out)
    for name, seconds in sorted(totals.items(), key=lambda item: -item[1])[:25]:
        print(f"  {seconds:8.2f} s {seconds / grand_total:6.1%}  {name}", file=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumulative").print_stats(40)
    print(out.getvalue(), file=sys.stderr)


async def run(args: argparse.Namespace, bootstrap: str, server: PostgresServer) -> None:
    """The runs, then the report."""
    profile = cProfile.Profile() if args.profile else None
    runs = []
    for number in range(1, args.runs + 1):
        progress(f"run {number} of {args.runs}, load average {os.getloadavg()[0]:.2f}")
        runs.append(await one_run(args, bootstrap, server, profile))
    if args.profile == "producer":
        print_profile(pstats.Stats(PRODUCER_PROFILE))
    elif profile:
        print_profile(pstats.Stats(profile))
    report(args, runs)


def main(argv: Sequence[str] | None = None) -> None:
    """Bring up (or reach) the infrastructure, measure, report, tear down."""
    args = parse_args(argv)
    with contextlib.ExitStack() as stack:
        bootstrap = stack.enter_context(kafka_bootstrap(args.bootstrap))
        server = stack.enter_context(postgres_server(args.postgres_url))
        asyncio.run(run(args, bootstrap, server))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        progress("interrupted; the broker and cluster started here were stopped")
        sys.exit(130)
