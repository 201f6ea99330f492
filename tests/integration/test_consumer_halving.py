"""A failed batch halved on a real database (PostgreSQL and SQLite): the poison event, a row the database refuses, is
dead-lettered alone after its attempts and the rest applied once in order; after an outage in the second half, the
redelivered batch skips the halves already committed through their inbox rows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.exc import OperationalError

from simpul_contracts.events import RecordLinkedV1
from simpul_platform import consumer as consumer_module
from simpul_platform.consumer import EventConsumer
from simpul_platform.database import Database
from simpul_platform.delivery import Delivery
from simpul_platform.delivery_tables import delivery_tables
from simpul_platform.unit_of_work import SqlUnitOfWork
from tests.unit.test_consumer_halving import Letters, linked_record

metadata = MetaData()
tables = delivery_tables(metadata)
links = Table("links", metadata, Column("seq", Integer, primary_key=True, autoincrement=True),
              Column("record_id", String(20), nullable=False, unique=True))
BATCH, POISON, OUTAGE = 200, 30, 150


@pytest.fixture
async def database(any_store: Callable[[str], str]) -> AsyncIterator[Database]:
    database = Database(any_store("halving"), pool_size=2)
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(links.insert().values(record_id=str(POISON)))  # its event breaks the unique key
    yield database
    await database.dispose()


async def _linked(database: Database) -> list[str]:
    async with database.session() as session:
        rows = await session.execute(select(links.c.record_id).where(links.c.seq > 1).order_by(links.c.seq))
        return list(rows.scalars())


async def _inbox_rows(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(tables.processed_events))).scalar_one())


async def test_an_outage_in_the_second_half_is_redelivered_and_the_committed_half_skipped_by_the_inbox(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consumer_module, "RETRY_PAUSE_SECONDS", 0.0)
    monkeypatch.setattr(consumer_module, "UNAVAILABLE_PAUSE_SECONDS", 0.0)
    down, handled, transactions = {str(OUTAGE)}, [], []

    async def link(uow: SqlUnitOfWork, run: Sequence[Delivery]) -> None:
        for delivery in run:
            record_id = delivery.event.source_record_id  # type: ignore[attr-defined]
            handled.append(record_id)
            if record_id in down:
                raise OperationalError("INSERT INTO links", {}, ConnectionRefusedError("connection refused"))
            await uow.session.execute(links.insert().values(record_id=record_id))

    def unit_of_work() -> SqlUnitOfWork:
        transactions.append(1)
        return SqlUnitOfWork(database, tables)

    letters = Letters()
    consumer = EventConsumer(name="c", topic=RecordLinkedV1.topic, handlers={RecordLinkedV1: link},  # type: ignore[dict-item]
                             unit_of_work=unit_of_work, inbox="c:identity.link.v1", dead_letters=letters)  # type: ignore[arg-type]
    records = [linked_record(n) for n in range(BATCH)]
    expected = [str(n) for n in range(BATCH) if n != POISON]

    with pytest.raises(OperationalError):
        await consumer.process(records)
    committed = await _linked(database)
    assert committed == expected[:BATCH // 2 - 1]  # the first half without its poison event, nothing of the second
    assert await _inbox_rows(database) == len(committed)
    assert letters.sent == [(POISON, 3)]
    assert len(transactions) <= 25  # the batch, two halves a level (7 levels), the poison's 3 attempts, the outage

    down.clear()  # the database is back: FastStream redelivers the batch
    handled.clear()
    await consumer.process(records)
    assert await _linked(database) == expected  # each once, in order
    assert await _inbox_rows(database) == len(expected)
    assert not set(handled) & set(committed)  # the inbox kept the committed half from the handler
    assert letters.sent == [(POISON, 3), (POISON, 3)]  # a dead letter has no inbox row: it is tried again
