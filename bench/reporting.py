"""Reporting at scale (issue 12): events into indicators through the real consumers, national reads over HTTP, and
the dashboard's first render.

What is measured, on a real PostgreSQL (a throwaway cluster with fsync off unless `--postgres-url` is given):

* REPLAY: the seeded world of bench/reporting_events.py (`--children`, default 5,000; `--events` caps how many are
  replayed) as Kafka records with CloudEvents headers, handed to the service's own consumers: `reporting.bootstrap
  .wire(settings)` with the DEFAULT settings (only the database URL set), one EventConsumer per topic, each fed
  batches of `consumer_batch_size` records through `EventConsumer.process` (inbox claim, contract mapping, batch
  handlers, counters moved in the batch's transaction), the topics concurrently on one event loop as the service
  runs them. Kafka itself is not in the path (bench/bus.py measures it): the figure is the consumers' own rate.
  Printed: events/s, this process's CPU per event, PostgreSQL's CPU per event (its processes' CPU time from
  /proc, when the cluster runs here), peak memory of this process.
* READS: `reporting.bootstrap.build()` under uvicorn in its own process (one worker, lifespan off: no broker; the
  garbage collector tuned as the service's start does),
  `GET /indicators?region=ID&level=national` as the ministry, for the cumulative period and each month in turn,
  `--queries` times (default 200): p50 / p95 / max ms (target p95 <= 50 ms).
* DASHBOARD: `bench/dashboard_render.py::first_render_seconds` against that server for the ministry (when the
  module is there; otherwise "not measured").

Run:  .venv/bin/python bench/reporting.py [--children 5000] [--events N] [--seed 12] [--queries 200]
                                         [--postgres-url URL] [--profile] [--no-dashboard]
Big run (the issue's sizes; only on a quiet machine): --children 1000000 (about 2.2 million events).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parents[1])

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.bus import print_profile  # noqa: E402
from bench.bus_support import fresh_database, postgres_server, progress  # noqa: E402
from bench.reporting_events import generate, records  # noqa: E402
from reporting.bootstrap import MIGRATIONS, wire  # noqa: E402
from reporting.config import ReportingSettings  # noqa: E402
from simpul_infra.ports import free_port  # noqa: E402
from simpul_platform.auth import Role, mint_token  # noqa: E402
from simpul_platform.consumer import EventConsumer  # noqa: E402
from simpul_platform.database import Database  # noqa: E402
from simpul_platform.migrations import upgrade  # noqa: E402
from simpul_platform.runtime import tune_garbage_collector  # noqa: E402
from simpul_platform.settings import DEV_SECRET  # noqa: E402

TARGET_RATE = 10_000.0
TARGET_P95_MS = 50.0
TARGET_RENDER_S = 1.0
SERVER_START_S = 60.0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=None, help="replay at most this many events")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--postgres-url", default=None, help="an admin URL (default: a throwaway cluster)")
    parser.add_argument("--profile", action="store_true", help="cProfile the replay; print the hottest functions")
    parser.add_argument("--no-dashboard", action="store_true")
    args = parser.parse_args(argv)
    if args.children < 1 or args.queries < 1 or (args.events is not None and args.events < 1):
        parser.error("--children, --events and --queries must be positive")
    return args


def batches(args: argparse.Namespace, size: int) -> dict[str, list[list[Any]]]:
    """Each topic's records in the consumer's batches, at most `--events` in all (each topic cut in proportion)."""
    topics = generate(args.seed, args.children)
    total = sum(len(events) for events in topics.values())
    share = 1.0 if args.events is None else min(1.0, args.events / total)
    rng = random.Random(args.seed)
    polled = {}
    for topic, events in topics.items():
        kept = list(records(topic, events[:max(1, round(len(events) * share))], rng))
        polled[topic] = [kept[start:start + size] for start in range(0, len(kept), size)]
    return polled


async def replay(consumers: Sequence[EventConsumer], polled: dict[str, list[list[Any]]],
                 every_seconds: float = 30.0) -> None:
    """Every topic's batches through its consumer, the topics concurrently; progress on stderr now and then."""
    total, done, started = sum(len(batch) for batches in polled.values() for batch in batches), [0], time.monotonic()

    async def one(consumer: EventConsumer) -> None:
        for batch in polled.get(consumer.topic, []):
            await consumer.process(batch)
            done[0] += len(batch)

    async def report() -> None:
        while True:
            await asyncio.sleep(every_seconds)
            rate = done[0] / (time.monotonic() - started)
            progress(f"replayed {done[0]:,} of {total:,} events ({rate:,.0f}/s)")

    reporter = asyncio.create_task(report())
    try:
        await asyncio.gather(*(one(consumer) for consumer in consumers))
    finally:
        reporter.cancel()


def _times(pid: int) -> tuple[int, list[int]]:
    """(parent pid, [utime, stime, cutime, cstime]) of a process, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), [int(value) for value in fields[11:15]]


async def postmaster(url: str) -> int | None:
    """The cluster's postmaster pid, when the cluster runs on this machine and we may read its data directory."""
    database = Database(url)
    try:
        async with database.session() as session:
            directory = (await session.execute(text("SHOW data_directory"))).scalar_one()
        return int((Path(directory) / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError):
        return None
    finally:
        await database.dispose()


def postgres_cpu(pid: int | None) -> float:
    """CPU seconds of the cluster so far: the postmaster with its reaped children, and its live children."""
    if pid is None:
        return 0.0
    ticks = sum(_times(pid)[1])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent, times = _times(int(entry.name))
                if parent == pid:
                    ticks += times[0] + times[1]
    return ticks / os.sysconf("SC_CLK_TCK")


async def measure_replay(url: str, args: argparse.Namespace) -> dict[str, float]:
    """The replay's figures."""
    settings = ReportingSettings(database_url=url)
    await upgrade(url, MIGRATIONS)
    wiring = wire(settings)
    tune_garbage_collector(settings.gc_young_threshold)  # as the running service's start does
    polled = batches(args, settings.consumer_batch_size)
    events = sum(len(batch) for batches_ in polled.values() for batch in batches_)
    progress(f"replaying {events:,} events ({', '.join(f'{t} {sum(map(len, b)):,}' for t, b in polled.items())})")
    profile = cProfile.Profile() if args.profile else None
    pid = await postmaster(url)
    cpu, pg_cpu, started = time.process_time(), postgres_cpu(pid), time.perf_counter()
    if profile:
        profile.enable()
    await replay(wiring.runtime.consumers, polled)
    if profile:
        profile.disable()
    took, cpu, pg_cpu = time.perf_counter() - started, time.process_time() - cpu, postgres_cpu(pid) - pg_cpu
    await wiring.runtime.database.dispose()
    if profile:
        print_profile(pstats.Stats(profile))
    return {"events": events, "seconds": took, "rate": events / took, "cpu_us": cpu / events * 1e6,
            "pg_cpu_us": pg_cpu / events * 1e6, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# The app as `uvicorn reporting.bootstrap:build --factory --lifespan off` serves it, with the garbage collector tuned
# as the service's start does (lifespan off: no broker to start, and so no tuning without this).
SERVE = """
import uvicorn
from reporting.bootstrap import build
from reporting.config import ReportingSettings
from simpul_platform.runtime import tune_garbage_collector
settings = ReportingSettings()
app = build(settings)
tune_garbage_collector(settings.gc_young_threshold)
uvicorn.run(app, host="127.0.0.1", port={port}, lifespan="off", log_level="warning")
"""


@contextmanager
def served(url: str) -> Iterator[str]:
    """Reporting's app under uvicorn in its own process (lifespan off: no broker); its base URL."""
    port = free_port()
    env = os.environ | {"REPORTING_DATABASE_URL": url, "REPORTING_JOBS_ENABLED": "false"}
    process = subprocess.Popen([sys.executable, "-c", SERVE.format(port=port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                httpx.get(base + "/openapi.json", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("reporting's server did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def ministry_token() -> str:
    """A development token of the ministry (what the server's default settings accept)."""
    token: str = mint_token(DEV_SECRET, "bench", Role.MINISTRY, [])
    return token


async def measure_reads(base: str, queries: int) -> dict[str, float]:
    """National reads as the ministry: latency of each, over the cumulative period and the months in turn."""
    headers = {"Authorization": f"Bearer {ministry_token()}"}
    periods = ["cumulative"] + [f"{year}{month:02d}" for year in (2025, 2026) for month in range(1, 13)]
    latencies = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        answer = await client.get("/indicators", params={"region": "ID", "level": "national"})
        answer.raise_for_status()
        figures = {f["indicator"]: f["value"] for f in answer.json()["figures"]
                   if f["sex"] == "all" and f["age_band"] == "all"}
        for number in range(queries):
            started = time.perf_counter()
            answer = await client.get("/indicators", params={"region": "ID", "level": "national",
                                                             "period": periods[number % len(periods)]})
            latencies.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
    latencies.sort()
    progress("national cumulative: " + ", ".join(f"{k} {v:,}" for k, v in sorted(figures.items())))
    return {"p50_ms": statistics.median(latencies), "p95_ms": latencies[max(0, round(0.95 * len(latencies)) - 1)],
            "max_ms": latencies[-1], "registered": figures.get("registered", 0)}


def measure_render(base: str) -> float | None:
    """The dashboard's first render for the ministry, when helper E's bench/dashboard_render.py is there."""
    try:
        from bench.dashboard_render import first_render_seconds  # noqa: PLC0415
    except ImportError:
        return None
    return first_render_seconds(base, ministry_token())


def verdict(ok: bool) -> str:
    """'met' or 'NOT met'."""
    return "met" if ok else "NOT met"


def report(args: argparse.Namespace, replayed: dict[str, float], reads: dict[str, float],
           render: float | None, skipped: bool) -> None:
    """The figures, on stdout."""
    load = os.getloadavg()
    print(f"reporting bench: --children {args.children:,} --seed {args.seed}; load average {load[0]:.1f}, "
          f"{os.cpu_count()} cores")
    print(f"replay: {replayed['events']:,.0f} events in {replayed['seconds']:.1f} s = {replayed['rate']:,.0f} events/s "
          f"({verdict(replayed['rate'] >= TARGET_RATE)}: >= {TARGET_RATE:,.0f}); CPU per event: consumer "
          f"{replayed['cpu_us']:.0f} us, PostgreSQL {replayed['pg_cpu_us']:.0f} us; peak memory "
          f"{replayed['peak_mb']:,.0f} MB")
    print(f"national reads over HTTP ({args.queries} GET /indicators?region=ID&level=national, "
          f"{reads['registered']:,} children registered): p50 {reads['p50_ms']:.1f} ms, p95 {reads['p95_ms']:.1f} ms "
          f"({verdict(reads['p95_ms'] <= TARGET_P95_MS)}: <= {TARGET_P95_MS:.0f} ms), max {reads['max_ms']:.1f} ms")
    if skipped or render is None:
        print("dashboard first render: not measured" + (" (--no-dashboard)" if skipped else
                                                         " (bench/dashboard_render.py is not there)"))
    else:
        print(f"dashboard first render (ministry): {render:.2f} s ({verdict(render <= TARGET_RENDER_S)}: "
              f"<= {TARGET_RENDER_S:.0f} s)")


def main(argv: Sequence[str] | None = None) -> None:
    """Bring up (or reach) PostgreSQL, measure, report, tear down."""
    args = parse_args(argv)
    with ExitStack() as stack:
        server = stack.enter_context(postgres_server(args.postgres_url))
        url = stack.enter_context(fresh_database(server))
        replayed = asyncio.run(measure_replay(url, args))
        base = stack.enter_context(served(url))
        reads = asyncio.run(measure_reads(base, args.queries))
        render = None if args.no_dashboard else measure_render(base)
        report(args, replayed, reads, render, args.no_dashboard)


if __name__ == "__main__":
    main()
