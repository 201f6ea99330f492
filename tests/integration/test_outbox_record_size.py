"""An event too large for a Kafka record is refused when it is written, with its type and size in the error, and
nothing of its transaction is kept: in the outbox it would have stopped the relay for every later event (the broker
refuses the record, and the relay retries it without end, in order)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import MetaData, func, select

from simpul_contracts import Event
from simpul_contracts.events import PersonsMergedV1, RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.database import Database
from simpul_platform.delivery_tables import delivery_tables
from simpul_platform.outbox import MAX_RECORD_BYTES, EventTooLarge
from simpul_platform.topic_reader import read_topic
from simpul_platform.unit_of_work import InMemoryUnitOfWork, SqlUnitOfWork, UnitOfWork
from tests.support.database import created
from tests.support.relaying import published, relaying

metadata = MetaData()
tables = delivery_tables(metadata)


def _merge(records: int) -> PersonsMergedV1:
    """A merge that moves `records` records (about 30 bytes each in the event)."""
    return PersonsMergedV1(merge_id="mrg_1", surviving_person_id="per_1", retired_person_id="per_2",
                           moved_records=[f"district-app:rec-{n:08d}" for n in range(records)],
                           merged_by="usr_reviewer", merged_at=dt.datetime.now(dt.UTC))


def _linked(key: str) -> RecordLinkedV1:
    return RecordLinkedV1(source_system="s", source_record_id=key, person_id="per_1",
                          reason=LinkReason.NEW_PERSON, linked_at=dt.datetime.now(dt.UTC))


async def _commit(uow: UnitOfWork, *events: Event) -> str:
    """Publish the events in one unit of work; the EventTooLarge message its commit raises."""
    with pytest.raises(EventTooLarge) as refused:
        await _publish(uow, *events)
    return str(refused.value)


async def _publish(uow: UnitOfWork, *events: Event) -> None:
    async with uow:
        uow.publish(*events)
        await uow.commit()


@pytest.fixture
async def database(make_database: Callable[[str], str]) -> AsyncIterator[Database]:
    async with created(make_database("record_size"), metadata) as database:
        yield database


async def test_the_fake_refuses_it_as_the_outbox_does() -> None:
    uow = InMemoryUnitOfWork()
    await _commit(uow, _linked("before"), _merge(40_000))
    assert uow.published == []


@pytest.mark.postgres
async def test_an_event_too_large_for_kafka_is_refused_and_later_events_still_flow(
        database: Database, kafka_bootstrap: str, namespace: str) -> None:
    large = _merge(40_000)
    assert len(large.to_bytes()) > MAX_RECORD_BYTES
    async with relaying(database, tables.outbox, kafka_bootstrap, namespace) as relay:
        message = await _commit(SqlUnitOfWork(database, tables), _linked("before"), large)
        assert PersonsMergedV1.event_type in message
        assert str(MAX_RECORD_BYTES) in message
        assert "rec-0000" not in message  # the error names the type and the size, never the content
        async with database.session() as session:  # the whole transaction was rolled back
            assert (await session.execute(select(func.count()).select_from(tables.outbox))).scalar_one() == 0
        largest = _merge(35_700)  # just under the bound: Kafka takes it
        assert MAX_RECORD_BYTES - 1_000 < len(largest.to_bytes()) <= MAX_RECORD_BYTES
        async with SqlUnitOfWork(database, tables, after_commit=relay.wake) as uow:
            uow.publish(largest, _linked("after"))
            await uow.commit()
        await published(relay, 2)
        assert relay.published == 2
    keys = [r.key for r in await read_topic(kafka_bootstrap, namespace + RecordLinkedV1.topic)]
    assert keys == [b"s:after"]
    merges = await read_topic(kafka_bootstrap, namespace + PersonsMergedV1.topic)
    assert [len(r.value or b"") for r in merges] == [len(largest.to_bytes())]
