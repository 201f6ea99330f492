"""Referral lifecycle throughput over HTTP: requests per second and p50/p95/p99 latency per operation.

What is measured: N referrals (default 10,000) created by a district officer and taken through their lifecycle by
their provider, over HTTP, against the referral service as deployed: `uvicorn referral.bootstrap:build --factory`
in its own process with its default configuration (outbox relay to Kafka, consumers, jobs), one worker.
Nine in ten go issue -> acknowledge -> accept -> record a service -> complete; one in ten issue -> acknowledge ->
decline. The officer issues (`POST /referrals`); the provider takes every later step through the provider API
(`POST /provider/referrals/{id}/acknowledge|accept|decline|complete`, the service record pushed to
`/provider/referrals/{id}/service-records` with an Idempotency-Key): a provider token reaches only those routes.
`--concurrency` clients (default 32) each take one referral at a time through its steps.

Before the clock starts, one eligible provider (vetted 9, an MoU for the service type and district) is set up
through the directory's handlers. The referrals rest on an officer's consent override (audited): the consent
events' path is the consumers', not this API's. Afterwards every referral's events are counted on
`referral.referral.v1` (the relay must have published them all).

Infrastructure: the embedded default database (a SQLite file, `--store sqlite`, the default) or PostgreSQL
(`--store postgres`, a throwaway fsync-off cluster unless `--postgres-url`); Kafka from `--kafka` or a throwaway
single-node broker. Figures go to stdout, progress to stderr.

Run:  .venv/bin/python bench/referral.py [--referrals N] [--concurrency C] [--store sqlite|postgres]
"""
# ruff: noqa: E402 - the imports below need the path set first

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

# This file's name is the service's package name: import the package, not this script, and the repository's
# `bench` and `tests.support` (the service process, a provider) from the root.
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

from bench.bus_support import fresh_database, kafka_bootstrap, postgres_server, progress
from referral.bootstrap import MIGRATIONS, wire
from referral.config import ReferralSettings
from simpul_contracts.events.referral.referrals import ReferralIssuedV1
from simpul_infra.catalogue import load_catalogue
from simpul_infra.topics import ensure_topics
from simpul_platform.auth import Role, mint_token
from simpul_platform.migrations import upgrade
from simpul_platform.settings import DEV_SECRET
from simpul_platform.topic_reader import read_topic
from tests.support.processes import ServiceProcess
from tests.support.referral_directory import DISTRICT, SERVICE_TYPE, GateState, provider_in_state

TARGET_OPS_PER_SECOND, TARGET_P95_MS = 500, 100.0
OPERATIONS = ("issue", "acknowledge", "accept", "record_service", "complete", "decline")
EVENTS_COMPLETED, EVENTS_DECLINED = 6, 3  # issued, acknowledged, accepted, started, recorded, completed | declined


def headers(role: Role, scope: str, subject: str) -> dict[str, str]:
    """A development token's Authorization header."""
    return {"Authorization": f"Bearer {mint_token(DEV_SECRET, subject, role, [scope])}"}


class Lifecycles:
    """The referrals to take through their lifecycle, and the time each request took."""

    def __init__(self, referrals: int, provider_id: str) -> None:
        self.remaining = iter(range(referrals))
        self.officer = headers(Role.DISTRICT_OFFICER, DISTRICT, "officer-bench")
        self.provider = headers(Role.PROVIDER, provider_id, "provider-bench")
        self.provider_id = provider_id
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.failures: list[str] = []
        self.issued: list[str] = []
        self.service_cpu = 0.0  # CPU seconds of the service's process during the run

    async def timed(self, client: httpx.AsyncClient, operation: str, path: str, who: dict[str, str],
                    body: dict[str, object] | None = None) -> bool:
        """One request, timed; whether it succeeded (a failure is kept and the referral left where it is)."""
        started = time.perf_counter()
        try:
            response = await client.post(path, headers=who, json=body)
        except httpx.TransportError as error:
            self.failures.append(f"{operation}: {type(error).__name__}")
            return False
        self.latencies[operation].append(time.perf_counter() - started)
        if response.status_code not in (200, 201):
            self.failures.append(f"{operation} {response.status_code}: {response.text[:200]}")
            return False
        if operation == "issue":
            self.issued.append(str(response.json()["referral_id"]))
        return True

    async def one(self, client: httpx.AsyncClient, n: int) -> None:
        """Referral number `n` through its lifecycle."""
        if not await self.timed(client, "issue", "/referrals", self.officer, {
                "child_id": f"chd_{n}", "person_id": f"per_{n}", "district": DISTRICT,
                "provider_id": self.provider_id, "service_types": [SERVICE_TYPE],
                "consent_override_reason": "consent form signed on the visit"}):
            return
        path = f"/provider/referrals/{self.issued[-1]}"
        steps: list[tuple[str, str, dict[str, object] | None]] = [("acknowledge", "acknowledge", None)]
        if n % 10 == 9:
            steps.append(("decline", "decline", {"reason": "no_capacity"}))
        else:
            service = {"service_type": SERVICE_TYPE, "delivered_on": dt.date.today().isoformat(),
                       "attendance": "attended", "outcome": "achieved"}
            steps += [("accept", "accept", None), ("record_service", "service-records", service),
                      ("complete", "complete", None)]
        for operation, step, body in steps:
            # A service record is pushed with its Idempotency-Key, as a provider's client does (docs/providers.md).
            who = self.provider | {"Idempotency-Key": uuid.uuid4().hex} if step == "service-records" else self.provider
            if not await self.timed(client, operation, f"{path}/{step}", who, body):
                return

    async def worker(self, client: httpx.AsyncClient) -> None:
        """Take referrals one at a time until none is left."""
        for n in self.remaining:
            await self.one(client, n)


async def set_up(url: str, bootstrap: str) -> str:
    """Migrate the database and register one eligible provider through the directory's handlers; its id."""
    await upgrade(url, MIGRATIONS)
    wiring = wire(ReferralSettings(database_url=url, kafka_bootstrap_servers=bootstrap))
    try:
        return await provider_in_state(wiring.unit_of_work, GateState.ELIGIBLE, on=dt.date.today())
    finally:
        await wiring.runtime.database.dispose()


async def events_published(bootstrap: str, topic: str, expected: int, wait_seconds: float = 120.0) -> int:
    """Records on the topic once `expected` arrived (or what is there after `wait_seconds`)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        found = len(await read_topic(bootstrap, topic))
        if found >= expected or time.monotonic() > deadline:
            return found
        await asyncio.sleep(1.0)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (from /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank) of the values, in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def report(run: Lifecycles, seconds: float, referrals: int, events: int, concurrency: int, store: str) -> bool:
    """Print the figures and the checks; True when every check holds."""
    everything = [t for op in OPERATIONS for t in run.latencies[op]]
    rate, p95 = len(everything) / seconds, quantile(everything, 0.95)
    print(f"referrals {referrals}, concurrency {concurrency}, store {store}, one uvicorn worker; {seconds:.1f} s")
    print(f"service CPU {1000 * run.service_cpu / max(len(everything), 1):.2f} ms per request (relay, consumers and "
          f"jobs included; the machine's load: {os.getloadavg()[0]:.1f})")
    print(f"{'operation':<16}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for name, values in [*((op, run.latencies[op]) for op in OPERATIONS), ("all", everything)]:
        if values:
            print(f"{name:<16}{len(values):>10,}{len(values) / seconds:>10,.0f}{quantile(values, 0.5):>10.1f}"
                  f"{quantile(values, 0.95):>10.1f}{quantile(values, 0.99):>10.1f}")
    declined = len(run.latencies["decline"])
    expected = (referrals - declined) * EVENTS_COMPLETED + declined * EVENTS_DECLINED
    checks = {
        "every request answered 2xx": not run.failures,
        f"every referral's events on the topic ({expected:,})": events == expected,
        f"lifecycle operations >= {TARGET_OPS_PER_SECOND}/s": rate >= TARGET_OPS_PER_SECOND,
        f"p95 <= {TARGET_P95_MS:.0f} ms": p95 <= TARGET_P95_MS,
    }
    for failure in run.failures[:5]:
        print(f"  failed: {failure}")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return all(checks.values())


async def bench(url: str, bootstrap: str, args: argparse.Namespace, workdir: Path) -> bool:
    """Set up, start the service, run the lifecycles, count the events, report."""
    namespace = f"bench{uuid.uuid4().hex[:8]}."  # this run's topics, even on a broker that has others
    await ensure_topics(bootstrap, [dataclasses.replace(spec, name=namespace + spec.name)
                                    for spec in load_catalogue().all_topics()])
    provider_id = await set_up(url, bootstrap)
    service = ServiceProcess("referral", {"REFERRAL_DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                                          "SIMPUL_TOPIC_NAMESPACE": namespace, "SIMPUL_STATE_DIR": str(workdir)},
                             workdir)
    service.start()
    try:
        await service.wait_ready()
        run = Lifecycles(args.referrals, provider_id)
        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        async with httpx.AsyncClient(base_url=service.url, limits=limits, timeout=60.0) as client:
            progress(f"{args.referrals} referrals through their lifecycle, {args.concurrency} at a time ...")
            assert service.process is not None
            started, cpu = time.perf_counter(), cpu_seconds(service.process.pid)
            await asyncio.gather(*(run.worker(client) for _ in range(args.concurrency)))
            seconds, run.service_cpu = time.perf_counter() - started, cpu_seconds(service.process.pid) - cpu
        declined = len(run.latencies["decline"])
        expected = (args.referrals - declined) * EVENTS_COMPLETED + declined * EVENTS_DECLINED
        progress("counting the events on the topic ...")
        events = await events_published(bootstrap, namespace + ReferralIssuedV1.topic, expected)
    finally:
        service.stop()
        if not service.log.exists() or "Traceback" in service.log.read_text(errors="replace"):
            progress("the service's log ends:\n" + "\n".join(
                service.log.read_text(errors="replace").splitlines()[-40:]) if service.log.exists() else "no log")
    return report(run, seconds, args.referrals, events, args.concurrency, args.store)


@contextlib.contextmanager
def database(args: argparse.Namespace, workdir: Path) -> Iterator[str]:
    """The store's URL: a SQLite file as the service's default, or a fresh PostgreSQL database."""
    if args.store == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'referral.db'}"
        return
    with postgres_server(args.postgres_url) as server, fresh_database(server) as url:
        yield url


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments, start the infrastructure, run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--referrals", type=int, default=10_000, help="referrals (default 10,000)")
    parser.add_argument("--concurrency", type=int, default=32, help="clients at once (default 32)")
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite",
                        help="the embedded default database (sqlite) or PostgreSQL")
    parser.add_argument("--postgres-url", help="admin URL of a running PostgreSQL (default: a throwaway one)")
    parser.add_argument("--kafka", help="bootstrap address of a running Kafka (default: a throwaway broker)")
    args = parser.parse_args(argv)
    if not 0 < args.referrals <= 1_000_000 or not 0 < args.concurrency <= 1000:
        parser.error("--referrals must be 1-1,000,000 and --concurrency 1-1000")
    with tempfile.TemporaryDirectory(prefix="simpul-bench-referral-") as tmp, kafka_bootstrap(args.kafka) as kafka, \
            database(args, Path(tmp)) as url:
        ok = asyncio.run(bench(url, kafka, args, Path(tmp)))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
