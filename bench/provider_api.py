"""Provider API throughput over HTTP: service-record pushes (single and batch) and the lossless sync.

What is measured, against the referral service as deployed (`uvicorn referral.bootstrap:build --factory` in its own
process with its default configuration: outbox relay to Kafka, consumers, jobs; one worker):
1. single pushes: `--concurrency` clients (default 64) each push one service record at a time with its own
   Idempotency-Key (`POST /provider/referrals/{id}/service-records`), `--records` in all (default 10,000), one per
   referral in turn; records/s sustained and p50/p95/p99 latency;
2. batch pushes: `--batch-concurrency` clients (default 4) push `--batch-records` records (default 50,000) in batches
   of `--batch-size` (default 500, `POST /provider/service-records:batch`); records/s;
3. the sync of every changed referral (`--referrals`, default 10,000) through `GET /provider/referrals` pages of
   1,000 from the start, as a provider's first poll after the pushes; referrals/s and the time it takes.
A push whose connection drops is sent again with the same Idempotency-Key, as docs/providers.md tells a provider
(at most 3 times; the retries are printed, and a push that never gets an answer is a failure). Every push is one
database transaction with its key and its events in the outbox; afterwards the
`ReferralServiceRecordedV1` events are counted on `referral.referral.v1` (the relay must have published each once).

Before the clock starts, `--referrals` accepted referrals of one provider are saved directly through the
repositories (the lifecycle up to accept is bench/referral.py's). Infrastructure: PostgreSQL (`--store postgres`,
the default: a throwaway fsync-off cluster unless `--postgres-url`) or the embedded SQLite file (`--store sqlite`);
Kafka from `--kafka` or a throwaway single-node broker. Figures go to stdout, progress to stderr.

Targets (issue 11, on 2 cores): >= 1,000 records/s through single pushes with p95 <= 100 ms, >= 5,000 records/s
through batch pushes.

Where a push's time goes (cProfile in process with a CPU-time timer, PostgreSQL, the httpx client in the same
process; measured on a machine loaded 10-15 on 2 cores, so absolute figures are high): a single push costs about
14 ms of CPU, a record of a batch about 1.7 ms (client included). Of a single push: FastAPI 16% (route matching
alone ~7%: about 90 routes are tried in turn), SQLAlchemy 15%, the httpx client 8%, OpenTelemetry 5% (its FastAPI
instrumentation matches the routes again to name the span, ~7% with the matching it calls), asyncpg 4%, referral's
own code 4%, PyJWT 2%. Of a batch: SQLAlchemy about half, mostly statement building; building the guarded UPDATE of
a referral once per dialect (bind parameters) took a batch record from 2.6 to 1.7 ms and a single push from 16.3
to 14.0 ms, and the Idempotency-Key's lock and look-up in one statement without a savepoint saves three round trips
per push. What is left for a single push is per-request framework cost (routing twice, dependencies, the span).

Run:  .venv/bin/python bench/provider_api.py [--referrals N] [--records N] [--batch-records N] [--store ...]
"""
# ruff: noqa: E402 - the imports below need the path set first

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Iterator, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench.bus_support import fresh_database, kafka_bootstrap, postgres_server, progress
from referral.bootstrap import MIGRATIONS, wire
from referral.config import ReferralSettings
from referral.domain.consent import RecordedConsent
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from simpul_contracts.events.referral.referrals import ReferralServiceRecordedV1
from simpul_infra.catalogue import load_catalogue
from simpul_infra.topics import ensure_topics
from simpul_platform.auth import Role, mint_token
from simpul_platform.migrations import upgrade
from simpul_platform.settings import DEV_SECRET
from simpul_platform.topic_reader import read_topic
from tests.support.processes import ServiceProcess
from tests.support.referral_directory import DISTRICT, SERVICE_TYPE

TARGET_SINGLE_PER_SECOND, TARGET_P95_MS, TARGET_BATCH_PER_SECOND = 1_000, 100.0, 5_000
PROVIDER_ID = "prv_bench_provider_api"
SETUP_BATCH = 500
ATTEMPTS = 3
RECORDED_TYPE = ReferralServiceRecordedV1.event_type


def provider_headers() -> dict[str, str]:
    """A development provider token's Authorization header."""
    return {"Authorization": f"Bearer {mint_token(DEV_SECRET, 'provider-bench', Role.PROVIDER, [PROVIDER_ID])}"}


def referral_id(n: int) -> str:
    """The id of the bench's n-th referral."""
    return f"ref_bench_{n:08d}"


def record(today: dt.date, n: int) -> dict[str, object]:
    """A service record body (a typical one: codes, a short note, one attachment)."""
    return {"service_type": SERVICE_TYPE, "delivered_on": today.isoformat(), "attendance": "attended",
            "outcome": "in_progress", "notes": f"session {n}: back in class, homework done",
            "attachments": [{"url": f"https://files.provider.example/records/{n}.pdf", "sha256": f"{n:064x}"}]}


@dataclasses.dataclass
class Run:
    """What the pushes answered, and how long each took."""

    latencies: list[float] = dataclasses.field(default_factory=list)
    recorded: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    service_cpu: float = 0.0
    """CPU seconds the service's process spent meanwhile (its relay, consumers and jobs included)."""
    retries: list[str] = dataclasses.field(default_factory=list)
    """Requests sent again after the connection dropped (as docs/providers.md tells a provider: the same request
    with the same Idempotency-Key), by error type."""

    async def post(self, client: httpx.AsyncClient, path: str, body: object, headers: dict[str, str]
                   ) -> httpx.Response | None:
        """POST, sent again with the same key (at most ATTEMPTS times) when the connection drops; None at the end."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await client.post(path, json=body, headers=headers)
            except httpx.TransportError as error:
                if attempt == ATTEMPTS:
                    self.failures.append(f"{path}: {type(error).__name__} {ATTEMPTS} times")
                    return None
                self.retries.append(type(error).__name__)
        return None


async def set_up(url: str, bootstrap: str, referrals: int) -> None:
    """Migrate, then save `referrals` accepted referrals of the bench's provider (in transactions of 500)."""
    await upgrade(url, MIGRATIONS)
    wiring = wire(ReferralSettings(database_url=url, kafka_bootstrap_servers=bootstrap))
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    try:
        for start in range(0, referrals, SETUP_BATCH):
            async with wiring.unit_of_work() as uow:
                for n in range(start, min(start + SETUP_BATCH, referrals)):
                    request = ReferralRequest(referral_id(n), f"chd_bench_{n}", f"per_bench_{n}", DISTRICT,
                                              (SERVICE_TYPE,), RecordedConsent(at))
                    history = [Step(s, "provider-bench", at) for s in (
                        ReferralStatus.ISSUED, ReferralStatus.ACKNOWLEDGED, ReferralStatus.ACCEPTED)]
                    await uow.referrals.save(Referral(request, PROVIDER_ID, history, PersonLink(f"per_bench_{n}")))
                await uow.commit()
    finally:
        await wiring.runtime.database.dispose()


async def single_pushes(client: httpx.AsyncClient, args: argparse.Namespace) -> Run:
    """`--records` single pushes by `--concurrency` clients, one referral after another."""
    run, numbers, today, who = Run(), iter(range(args.records)), dt.date.today(), provider_headers()

    async def client_loop() -> None:
        for n in numbers:
            path = f"/provider/referrals/{referral_id(n % args.referrals)}/service-records"
            started = time.perf_counter()
            answer = await run.post(client, path, record(today, n), who | {"Idempotency-Key": f"single-{n}"})
            if answer is None:
                continue
            run.latencies.append(time.perf_counter() - started)
            if answer.status_code == 201:
                run.recorded += 1
            else:
                run.failures.append(f"single {answer.status_code}: {answer.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(args.concurrency)))
    run.seconds = time.perf_counter() - started
    return run


async def batch_pushes(client: httpx.AsyncClient, args: argparse.Namespace) -> Run:
    """`--batch-records` records in batches of `--batch-size` by `--batch-concurrency` clients."""
    run, today, who = Run(), dt.date.today(), provider_headers()
    batches = iter(range(0, args.batch_records, args.batch_size))

    async def client_loop() -> None:
        for start in batches:
            numbers = range(start, min(start + args.batch_size, args.batch_records))
            body = {"records": [record(today, n) | {"referral_id": referral_id(n % args.referrals)}
                                for n in numbers]}
            began = time.perf_counter()
            answer = await run.post(client, "/provider/service-records:batch", body,
                                    who | {"Idempotency-Key": f"batch-{start}"})
            if answer is None:
                continue
            run.latencies.append(time.perf_counter() - began)
            if answer.status_code != 200:
                run.failures.append(f"batch {answer.status_code}: {answer.text[:200]}")
                continue
            results = answer.json()
            run.recorded += results["recorded"]
            run.failures += [json.dumps(r)[:200] for r in results["results"] if r["status"] != 201][:3]

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(args.batch_concurrency)))
    run.seconds = time.perf_counter() - started
    return run


async def sync_all(client: httpx.AsyncClient) -> tuple[int, int, float]:
    """A first sync from the start, pages of 1,000: (distinct referrals, pages, seconds)."""
    seen: set[str] = set()
    pages, cursor, who = 0, None, provider_headers()
    started = time.perf_counter()
    for _ in range(100_000):  # bounded: a page of 1,000 each
        params: dict[str, str | int] = {"limit": 1000}
        if cursor:
            params["cursor"] = cursor
        answer = await client.get("/provider/referrals", params=params, headers=who)
        answer.raise_for_status()
        page = answer.json()
        pages += 1
        seen |= {item["referral_id"] for item in page["items"]}
        cursor = page["next"]
        if not page["more"]:
            break
    return len(seen), pages, time.perf_counter() - started


async def recorded_events(bootstrap: str, topic: str, expected: int, wait_seconds: float = 120.0) -> int:
    """`ReferralServiceRecordedV1` records on the topic once `expected` arrived (or after `wait_seconds`)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        records = await read_topic(bootstrap, topic)
        found = sum(1 for r in records if dict(r.headers or ()).get("ce_type") == RECORDED_TYPE.encode())
        if found >= expected or time.monotonic() > deadline:
            return found
        await asyncio.sleep(1.0)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (from /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(pid: int, pushes: Awaitable[Run]) -> Run:
    """The pushes' run, with the CPU time the service spent on it."""
    before = cpu_seconds(pid)
    run = await pushes
    run.service_cpu = cpu_seconds(pid) - before
    return run


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank) of the values, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def report(args: argparse.Namespace, single: Run, batch: Run, sync: tuple[int, int, float], events: int) -> bool:
    """Print the figures and the checks; True when every check holds."""
    single_rate = single.recorded / single.seconds if single.seconds else 0.0
    batch_rate = batch.recorded / batch.seconds if batch.seconds else 0.0
    p95 = quantile(single.latencies, 0.95)
    synced, pages, sync_seconds = sync
    print(f"store {args.store}, one uvicorn worker; {args.referrals:,} referrals")
    print(f"single pushes: {single.recorded:,} records in {single.seconds:.1f} s by {args.concurrency} clients: "
          f"{single_rate:,.0f} records/s, p50 {quantile(single.latencies, 0.5):.1f} ms, p95 {p95:.1f} ms, "
          f"p99 {quantile(single.latencies, 0.99):.1f} ms")
    print(f"batch pushes:  {batch.recorded:,} records in {batch.seconds:.1f} s, batches of {args.batch_size} by "
          f"{args.batch_concurrency} clients: {batch_rate:,.0f} records/s, p50 {quantile(batch.latencies, 0.5):.0f} "
          f"ms per batch")
    print(f"service CPU:   {1000 * single.service_cpu / max(single.recorded, 1):.2f} ms per single push, "
          f"{1000 * batch.service_cpu / max(batch.recorded, 1):.2f} ms per record in a batch (relay, consumers and "
          f"jobs included; the machine's load: {os.getloadavg()[0]:.1f})")
    print(f"sync:          {synced:,} referrals in {pages} pages, {sync_seconds:.2f} s "
          f"({synced / sync_seconds if sync_seconds else 0:,.0f} referrals/s)")
    expected = single.recorded + batch.recorded
    checks = {
        "every push answered 201 / every batch record recorded": not single.failures and not batch.failures,
        f"every record's event on the topic once ({expected:,})": events == expected,
        f"the sync returned every referral ({args.referrals:,})": synced == args.referrals,
        f"single pushes >= {TARGET_SINGLE_PER_SECOND:,}/s": single_rate >= TARGET_SINGLE_PER_SECOND,
        f"single p95 <= {TARGET_P95_MS:.0f} ms": p95 <= TARGET_P95_MS,
        f"batch pushes >= {TARGET_BATCH_PER_SECOND:,}/s": batch_rate >= TARGET_BATCH_PER_SECOND,
    }
    retries = single.retries + batch.retries
    if retries:
        print(f"sent again after a dropped connection (same Idempotency-Key): {len(retries)} "
              f"({', '.join(f'{name} {retries.count(name)}' for name in sorted(set(retries)))})")
    for failure in (single.failures + batch.failures)[:5]:
        print(f"  failed: {failure}")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return all(checks.values())


async def bench(url: str, bootstrap: str, args: argparse.Namespace, workdir: Path) -> bool:
    """Set up, start the service, push, sync, count the events, report."""
    namespace = f"bench{uuid.uuid4().hex[:8]}."  # this run's topics, even on a broker that has others
    await ensure_topics(bootstrap, [dataclasses.replace(spec, name=namespace + spec.name)
                                    for spec in load_catalogue().all_topics()])
    progress(f"saving {args.referrals:,} accepted referrals ...")
    await set_up(url, bootstrap, args.referrals)
    service = ServiceProcess("referral", {"REFERRAL_DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                                          "SIMPUL_TOPIC_NAMESPACE": namespace, "SIMPUL_STATE_DIR": str(workdir)},
                             workdir)
    service.start()
    try:
        await service.wait_ready()
        assert service.process is not None
        pid = service.process.pid
        connections = max(args.concurrency, args.batch_concurrency)
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=service.url, limits=limits, timeout=120.0) as client:
            progress(f"{args.records:,} single pushes, {args.concurrency} at a time ...")
            single = await measured(pid, single_pushes(client, args))
            progress(f"{args.batch_records:,} records in batches of {args.batch_size} ...")
            batch = await measured(pid, batch_pushes(client, args))
            progress("syncing every referral ...")
            sync = await sync_all(client)
        progress("counting the events on the topic ...")
        events = await recorded_events(bootstrap, namespace + ReferralServiceRecordedV1.topic,
                                       single.recorded + batch.recorded)
    finally:
        service.stop()
        if not service.log.exists() or "Traceback" in service.log.read_text(errors="replace"):
            progress("the service's log ends:\n" + "\n".join(
                service.log.read_text(errors="replace").splitlines()[-40:]) if service.log.exists() else "no log")
    return report(args, single, batch, sync, events)


@contextlib.contextmanager
def database(args: argparse.Namespace, workdir: Path) -> Iterator[str]:
    """The store's URL: a fresh PostgreSQL database, or a SQLite file (the embedded default)."""
    if args.store == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'referral.db'}"
        return
    with postgres_server(args.postgres_url) as server, fresh_database(server) as url:
        yield url


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments, start the infrastructure, run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--referrals", type=int, default=10_000, help="accepted referrals (default 10,000)")
    parser.add_argument("--records", type=int, default=10_000, help="single pushes (default 10,000)")
    parser.add_argument("--concurrency", type=int, default=64, help="single-push clients at once (default 64)")
    parser.add_argument("--batch-records", type=int, default=50_000, help="records pushed in batches (50,000)")
    parser.add_argument("--batch-size", type=int, default=500, help="records per batch (default 500, at most 500)")
    parser.add_argument("--batch-concurrency", type=int, default=4, help="batch clients at once (default 4)")
    parser.add_argument("--store", choices=("postgres", "sqlite"), default="postgres",
                        help="PostgreSQL (default) or the embedded SQLite file")
    parser.add_argument("--postgres-url", help="admin URL of a running PostgreSQL (default: a throwaway one)")
    parser.add_argument("--kafka", help="bootstrap address of a running Kafka (default: a throwaway broker)")
    args = parser.parse_args(argv)
    if not 0 < args.referrals <= 1_000_000 or not 0 <= args.records <= 10_000_000 \
            or not 0 <= args.batch_records <= 10_000_000:
        parser.error("--referrals must be 1-1,000,000, --records and --batch-records 0-10,000,000")
    if not 0 < args.batch_size <= 500 or not 0 < args.concurrency <= 1000 or not 0 < args.batch_concurrency <= 100:
        parser.error("--batch-size must be 1-500, --concurrency 1-1000, --batch-concurrency 1-100")
    with tempfile.TemporaryDirectory(prefix="simpul-bench-provider-") as tmp, kafka_bootstrap(args.kafka) as kafka, \
            database(args, Path(tmp)) as url:
        ok = asyncio.run(bench(url, kafka, args, Path(tmp)))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
