"""The relay's pipeline on an embedded outbox and a fake producer whose acknowledgements the test hands out.

What it shows: the next batch goes out while earlier acks are outstanding, at most `in_flight_batches` batches are
out, a batch is deleted from the outbox only after all its record batches (one per partition) were acknowledged
(and then nothing of it stays: restricted payloads leave the database once they are on Kafka), sends follow commit
(`seq`) order, and after a failed send the relay carries on with the rows the topic lacks: what was acknowledged is
not sent again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, func, select

from simpul_contracts.events import RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform import relay as relay_module
from simpul_platform.database import Database
from simpul_platform.delivery_tables import delivery_tables
from simpul_platform.outbox import Outbox
from simpul_platform.relay import OutboxRelay

BATCH = 10


@dataclass
class Sent:
    event_id: str
    ack: asyncio.Future[Any]
    producer: int
    partition: int


@dataclass
class FakeKafka:
    """Two partitions: what each producer sent, and what was acknowledged (= on the topic), in order."""

    sent: list[Sent] = field(default_factory=list)
    topic: list[str] = field(default_factory=list)
    producers: int = 0

    def ack(self, batches: int, error: Exception | None = None) -> None:
        """Acknowledge the next `batches` outstanding record batches (or fail the last of them)."""
        pending = list(dict.fromkeys(s.ack for s in self.sent if not s.ack.done()))[:batches]
        for number, ack in enumerate(pending, 1):
            if error is not None and number == batches:
                ack.set_exception(error)
                return
            self.topic.extend(s.event_id for s in self.sent if s.ack is ack)
            ack.set_result(None)


@dataclass
class FakeBatch:
    event_ids: list[str] = field(default_factory=list)

    def append(self, *, timestamp: object, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> object:
        self.event_ids.append(dict(headers)["ce_id"].decode())
        return object()


class FakeProducer:
    def __init__(self, kafka: FakeKafka) -> None:
        self.kafka = kafka

    def create_batch(self) -> FakeBatch:
        return FakeBatch()

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1}

    async def send_batch(self, batch: FakeBatch, topic: str, *, partition: int) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.kafka.sent.extend(Sent(event_id, future, self.kafka.producers, partition) for event_id in batch.event_ids)
        return future

    async def stop(self) -> None:
        for sent in self.kafka.sent:  # what a stopped producer never delivered is lost, never half-written
            if not sent.ack.done():
                sent.ack.cancel()


class FakeKafkaRelay(OutboxRelay):
    kafka: FakeKafka

    async def start(self) -> None:
        if self._producer is None:
            self.kafka.producers += 1
            self._producer = FakeProducer(self.kafka)  # type: ignore[assignment]


@dataclass
class Setup:
    database: Database
    outbox: Table
    relay: FakeKafkaRelay
    kafka: FakeKafka
    event_ids: list[str]

    async def unsent(self) -> int:
        query = select(func.count()).select_from(self.outbox)  # the relay deletes what Kafka acknowledged
        async with self.database.session() as session:
            return int((await session.execute(query)).scalar_one())


def _linked(n: int) -> RecordLinkedV1:
    return RecordLinkedV1(source_system="s", source_record_id=f"r{n % 3}", person_id=f"p{n}",
                          reason=LinkReason.NEW_PERSON, linked_at=dt.datetime.now(dt.UTC))


@pytest.fixture
async def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Setup]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    metadata = MetaData()
    outbox = delivery_tables(metadata).outbox
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    async with database.session() as session, session.begin():
        event_ids = await Outbox(outbox).add(session, *[_linked(n) for n in range(5 * BATCH)])
    kafka = FakeKafka()

    async def on_the_topic(_bootstrap: str, _topics: object, depth: int) -> set[str]:
        return set(kafka.topic[-depth:])

    monkeypatch.setattr(relay_module, "published_ids", on_the_topic)
    relay = FakeKafkaRelay(database, outbox, "unused:9092", batch_size=BATCH, poll_seconds=0.01,
                           in_flight_batches=3)
    relay.kafka = kafka
    yield Setup(database, outbox, relay, kafka, event_ids)
    await database.dispose()


async def _until(condition: Callable[[], Awaitable[bool] | bool], seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        outcome = condition()
        if await outcome if isinstance(outcome, Awaitable) else outcome:
            return
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


@pytest.fixture
async def running(setup: Setup) -> AsyncIterator[Setup]:
    task = asyncio.create_task(setup.relay.run())
    yield setup
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def _in_commit_order(sent: list[Sent], committed: list[str]) -> bool:
    """Per partition, the sends follow commit order."""
    position = {event_id: n for n, event_id in enumerate(committed)}
    by_partition: dict[int, list[int]] = {}
    for record in sent:
        by_partition.setdefault(record.partition, []).append(position[record.event_id])
    return len(by_partition) == 2 and all(seqs == sorted(seqs) for seqs in by_partition.values())


def _record_batches(kafka: FakeKafka) -> int:
    return len({id(s.ack) for s in kafka.sent})


async def test_sends_run_ahead_of_acks_up_to_the_bound_and_nothing_is_deleted_before_its_ack(running: Setup) -> None:
    kafka = running.kafka
    await _until(lambda: len(kafka.sent) == 3 * BATCH)
    await asyncio.sleep(0.1)
    assert len(kafka.sent) == 3 * BATCH  # three batches out, none acknowledged: the relay waits
    assert await running.unsent() == 5 * BATCH
    assert _record_batches(kafka) == 6  # each relay batch is one record batch per partition

    kafka.ack(1)  # one partition's part of the first batch: the batch is not deleted yet
    await asyncio.sleep(0.1)
    assert await running.unsent() == 5 * BATCH
    assert len(kafka.sent) == 3 * BATCH

    kafka.ack(1)
    await _until(lambda: len(kafka.sent) == 4 * BATCH)  # one batch deleted, so one more goes out
    await _until(lambda: _unsent_is(running, 4 * BATCH))

    await _ack_all(running)
    assert sorted(s.event_id for s in kafka.sent) == sorted(running.event_ids)  # each once
    assert _in_commit_order(kafka.sent, running.event_ids)
    assert running.relay.published == 5 * BATCH


async def test_after_a_failed_send_it_resumes_from_the_first_row_the_topic_lacks(running: Setup) -> None:
    kafka = running.kafka
    await _until(lambda: len(kafka.sent) == 3 * BATCH)
    kafka.ack(2)
    kafka.ack(2, error=ConnectionError("broker gone"))  # one partition of the second batch written, then a failure
    written = list(kafka.topic)
    await _until(lambda: kafka.producers == 2)
    await _ack_all(running)
    assert sorted(kafka.topic) == sorted(running.event_ids)  # each event once: what was written is not sent again
    resent = [s for s in kafka.sent if s.producer == 2]
    assert {s.event_id for s in resent} == set(running.event_ids) - set(written)
    assert _in_commit_order(resent, running.event_ids)


async def _ack_all(setup: Setup) -> None:
    async with asyncio.timeout(5):
        while await setup.unsent():
            setup.kafka.ack(2)
            await asyncio.sleep(0.02)


async def _unsent_is(setup: Setup, count: int) -> bool:
    return await setup.unsent() == count
