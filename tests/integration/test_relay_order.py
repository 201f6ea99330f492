"""Two relay processes on one outbox (PostgreSQL, real Kafka), the publishing one SIGKILLed in the middle of a run.

Writers commit thousands of events over a handful of keys concurrently; like a service's aggregates, a transaction
holds its keys' locks until it commits, so one key's commit order is its `seq` order. Afterwards the topic must
hold every committed event exactly once, and each key's events in `seq` order.

What the design guarantees, and so what is asserted:
- Per-key order: only the relay holding the outbox's advisory lock publishes; it sends in `seq` order on one
  idempotent producer (order kept per partition), and the relay taking over starts where the topic ends.
- Nothing lost: a row is deleted only after Kafka acknowledged it.
- Nothing twice: the dead relay's published-but-undeleted rows are found on the topic's tail by the relay taking
  over and deleted, not republished. This holds because the killed process is gone (its PostgreSQL session ended,
  which is what released the lock) before the standby reads the tail. It is NOT guaranteed for a relay that lost its
  lock while still running (its connection to PostgreSQL cut, not the process): it may still send the batches it had
  fetched, which would then appear twice (same event id; consumers' inboxes apply them once).

Run as a module (`python -m tests.integration.test_relay_order URL BOOTSTRAP NAMESPACE`) it is one relay process,
wired by `build_runtime` from settings as a service's.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from simpul_contracts import CloudEvent
from simpul_platform.delivery_tables import delivery_tables
from simpul_platform.runtime import build_runtime
from simpul_platform.settings import ServiceSettings
from simpul_platform.telemetry import configure_logging
from simpul_platform.topic_reader import read_topic
from tests.support.topics import header

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]
ROOT = Path(__file__).resolve().parents[2]
TOPIC = "registry.child.v1"  # a catalogued topic with 3 partitions; the rows are probes, not registry events
KEYS = [f"chd_order_{n}" for n in range(6)]
WRITERS = 4
EVENTS_PER_WRITER = 1500
EVENTS = WRITERS * EVENTS_PER_WRITER
KILL_AFTER_SENT = EVENTS // 3
RUNNING = "relay process running"


OUTBOX: Table = delivery_tables(MetaData()).outbox


async def _relay_main(url: str, bootstrap: str, namespace: str) -> None:
    configure_logging()
    settings = ServiceSettings(service_name="relay-order", database_url=url, kafka_bootstrap_servers=bootstrap,
                               topic_namespace=namespace, migrate_on_start=False, outbox_standby_seconds=0.5)
    relay = build_runtime(settings, delivery_tables(MetaData()), ROOT / "unused").relay
    await relay.start()
    print(RUNNING, file=sys.stderr, flush=True)
    await relay.run()


@dataclass
class RelayProcess:
    name: str
    log: Path
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, name: str, log_dir: Path, *args: str) -> RelayProcess:
        log = log_dir / f"{name}.log"
        with log.open("wb") as out:
            command = [sys.executable, "-m", "tests.integration.test_relay_order", *args]
            return cls(name, log, subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT))

    def text(self) -> str:
        return self.log.read_text()

    async def wait_for(self, line: str, timeout: float = 60.0) -> None:
        async with asyncio.timeout(timeout):
            while line not in self.text():
                assert self.process.poll() is None, f"{self.name} exited:\n{self.text()}"
                await asyncio.sleep(0.1)

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
async def database(make_database: Callable[..., str]) -> str:
    url = make_database("relay_order")
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(OUTBOX.metadata.create_all)
    await engine.dispose()
    return url


Committed = dict[str, tuple[int, str]]  # event id -> (seq, key) of every committed probe


async def _write(url: str, seed: int, committed: Committed) -> None:
    """Commit EVENTS_PER_WRITER probes in transactions of 1-40 events, each holding its keys' locks to commit.

    The relay deletes what it sent, so the writers keep the record of each probe's `seq` (noted once committed)."""
    chance = random.Random(seed)
    engine = create_async_engine(url)
    try:
        left = EVENTS_PER_WRITER
        while left:
            keys = [chance.choice(KEYS) for _ in range(min(left, chance.randint(1, 40)))]
            left -= len(keys)
            async with engine.begin() as connection:
                # As the platform's Outbox.add does: the transaction has its id before it draws seqs, which is what
                # lets the relay know when a gap below its high-water mark can no longer fill.
                await connection.execute(text("SELECT pg_current_xact_id()"))
                for key in sorted(set(keys)):  # the aggregate's row lock, taken in one order: no deadlock
                    await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
                rows = await connection.execute(insert(OUTBOX).returning(OUTBOX.c.event_id, OUTBOX.c.seq, OUTBOX.c.key),
                                                [_probe(key) for key in keys])
                written = {row.event_id: (row.seq, row.key) for row in rows}
            committed.update(written)
    finally:
        await engine.dispose()


def _probe(key: str) -> dict[str, object]:
    envelope = CloudEvent(type="simpul.test.order-probe.v1", source="simpul/test", subject=key,
                          dataschema="https://simpul.id/test")
    return {"event_id": envelope.id, "topic": TOPIC, "key": key, "event_type": envelope.type,
            "source": envelope.source, "dataschema": envelope.dataschema, "payload": b"{}", "traceparent": None,
            "created_at": envelope.time}


async def _left(url: str) -> int:
    """How many rows the outbox still holds (unsent, or sent and not yet deleted)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(OUTBOX))).scalar_one())
    finally:
        await engine.dispose()


async def _sent_at_least(url: str, count: int, committed: Committed) -> bool:
    written = len(committed)  # before the count: a row committed in between is then counted as left, not sent
    return written - await _left(url) >= count


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 120.0) -> None:
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - the condition is in the database, no event to wait on
            await asyncio.sleep(0.05)


async def _kill_when_busy(url: str, relays: Sequence[RelayProcess], committed: Committed) -> RelayProcess:
    """SIGKILL the publishing relay once a third of the events are sent (acknowledged and deleted)."""
    await _eventually(lambda: _sent_at_least(url, KILL_AFTER_SENT, committed))
    active = next((r for r in relays if "outbox relay: publishing" in r.text()), relays[0])
    active.process.send_signal(signal.SIGKILL)
    active.process.wait()
    return active


async def test_two_relays_one_killed_keep_per_key_commit_order_and_publish_each_event_once(
    database: str, kafka_bootstrap: str, namespace: str, tmp_path: Path
) -> None:
    args = (database, kafka_bootstrap, namespace)
    relays = [RelayProcess.start("relay-a", tmp_path, *args)]
    try:
        await relays[0].wait_for(RUNNING)
        await asyncio.sleep(1.0)  # a publishes first
        relays.append(RelayProcess.start("relay-b", tmp_path, *args))
        await relays[1].wait_for(RUNNING)

        committed: Committed = {}
        writers = asyncio.gather(*(_write(database, seed, committed) for seed in range(WRITERS)))
        try:
            killed = await _kill_when_busy(database, relays, committed)
        finally:
            await writers
        await _eventually(lambda: _sent_at_least(database, EVENTS, committed))
        records = await read_topic(kafka_bootstrap, namespace + TOPIC)
    finally:
        for relay in relays:
            relay.end()

    on_topic = [header(record, "ce_id") or "" for record in records]
    assert len(committed) == EVENTS
    assert set(on_topic) == set(committed), "an event was lost (or a stranger published)"
    twice = {event_id: n for event_id, n in Counter(on_topic).items() if n > 1}
    assert not twice, f"{len(twice)} events published more than once"
    by_key: dict[str, list[int]] = defaultdict(list)
    for event_id in on_topic:  # read_topic: partition by partition, in offset order
        seq, key = committed[event_id]
        by_key[key].append(seq)
    disordered = {key: seqs for key, seqs in by_key.items() if seqs != sorted(seqs)}
    assert not disordered, f"keys published out of commit order: {sorted(disordered)}"
    survivor = next(r for r in relays if r is not killed)
    assert "took over publishing" in survivor.text(), survivor.text()


if __name__ == "__main__":
    asyncio.run(_relay_main(*sys.argv[1:4]))
