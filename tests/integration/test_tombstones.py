"""Tombstones: a unit of work queues one for a key on a compacted topic, the relay sends it as a Kafka record with a
null value after the transaction's events, and a consumer of the topic skips it (offset committed, no dead letter)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from simpul_contracts.events import RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.consumer import EventConsumer
from simpul_platform.database import Database
from simpul_platform.delivery_tables import delivery_tables
from simpul_platform.outbox import TOMBSTONE
from simpul_platform.topic_reader import read_topic
from simpul_platform.unit_of_work import InMemoryUnitOfWork, SqlUnitOfWork
from tests.support.database import created
from tests.support.relaying import published, relaying

metadata = MetaData()
tables = delivery_tables(metadata)
TOPIC = "identity.link.v1"


def _event(key: str) -> RecordLinkedV1:
    return RecordLinkedV1(source_system="s", source_record_id=key, person_id="per_1",
                          reason=LinkReason.NEW_PERSON, linked_at=dt.datetime.now(dt.UTC))


@pytest.fixture
async def database(make_database: Callable[[str], str]) -> AsyncIterator[Database]:
    async with created(make_database("tombstones"), metadata) as database:
        yield database


async def test_the_fake_keeps_tombstones_only_when_committed() -> None:
    uow = InMemoryUnitOfWork()
    async with uow:
        uow.tombstone(TOPIC, "s:1")
    async with uow:
        uow.tombstone(TOPIC, "s:2")
        await uow.commit()
    assert [(t.topic, t.key) for t in uow.tombstoned] == [(TOPIC, "s:2")]


@pytest.mark.postgres
async def test_a_tombstone_reaches_kafka_as_a_null_value_and_takes_the_keys_rows_out_of_the_outbox(
        database: Database, kafka_bootstrap: str, namespace: str) -> None:
    async with relaying(database, tables.outbox, kafka_bootstrap, namespace) as relay:
        async with SqlUnitOfWork(database, tables) as uow:
            uow.publish(_event("1"))
            await uow.commit()
        await published(relay, 1)
    assert await _outbox(database) == []  # a row acknowledged by Kafka is deleted
    async with SqlUnitOfWork(database, tables) as uow:  # no relay running: these stay unsent
        uow.publish(_event("2"), _event("1"))
        await uow.commit()
    woken: list[int] = []
    async with SqlUnitOfWork(database, tables, after_commit=lambda: woken.append(1)) as uow:
        uow.tombstone(TOPIC, "s:1")
        await uow.commit()
    assert woken == [1]
    # The key's unsent row is superseded and goes at once; the other key's stays.
    assert await _outbox(database) == [("s:2", RecordLinkedV1.event_type, False), ("s:1", TOMBSTONE, True)]
    async with relaying(database, tables.outbox, kafka_bootstrap, namespace) as relay:
        await published(relay, 2)
    assert await _outbox(database) == []
    records = [r for r in await read_topic(kafka_bootstrap, namespace + TOPIC) if r.key == b"s:1"]
    assert [r.value is None for r in records] == [False, True]  # the tombstone is the key's latest record
    assert not [name for name, _ in records[1].headers if name.startswith("ce_")]  # a tombstone is no CloudEvent


async def _outbox(database: Database) -> list[tuple[str, str, bool]]:
    async with database.session() as session:
        rows = (await session.execute(select(tables.outbox).order_by(tables.outbox.c.seq))).all()
    return [(r.key, r.event_type, r.payload is None) for r in rows]


async def test_a_consumer_skips_a_tombstone_without_dead_lettering_it() -> None:
    dead: list[Any] = []
    applied: list[Any] = []

    async def apply(uow: Any, deliveries: Any) -> None:
        applied.extend(deliveries)

    letters: Any = SimpleNamespace(send=lambda record, error, attempts: dead.append(record) or asyncio.sleep(0))
    consumer = EventConsumer(name="tests", topic=TOPIC, handlers={RecordLinkedV1: apply},
                             unit_of_work=InMemoryUnitOfWork, inbox="tests", dead_letters=letters)
    tombstone: Any = SimpleNamespace(topic=TOPIC, partition=0, offset=0, key=b"s:1", value=None, headers=[])
    await consumer.process([tombstone])
    assert dead == []
    assert applied == []
