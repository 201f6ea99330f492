"""What the relay puts on Kafka for an event: the CloudEvents binary-mode headers, written from the outbox row's
columns, exactly as the event's own envelope lays them out (id, source, type, specversion, time, subject,
dataschema, content-type), then the trace context; a tombstone carries no CloudEvents headers. On PostgreSQL and on
SQLite, which gives its UTC times back without a zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import MetaData

from simpul_contracts import CloudEvent
from simpul_contracts.events import RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.database import Database
from simpul_platform.delivery_tables import delivery_tables
from simpul_platform.topic_reader import read_topic
from simpul_platform.unit_of_work import SqlUnitOfWork
from tests.support.database import created
from tests.support.relaying import published, relaying

metadata = MetaData()
tables = delivery_tables(metadata)


@pytest.fixture
async def database(any_store: Callable[[str], str]) -> AsyncIterator[Database]:
    async with created(any_store("relay_headers"), metadata) as database:
        yield database


async def test_the_relay_writes_the_envelope_of_each_event_from_its_row(
        database: Database, kafka_bootstrap: str, namespace: str) -> None:
    event = RecordLinkedV1(source_system="district-app", source_record_id="rec-1", person_id="per_1",
                           reason=LinkReason.NEW_PERSON, linked_at=dt.datetime.now(dt.UTC))
    before = dt.datetime.now(dt.UTC)
    async with relaying(database, tables.outbox, kafka_bootstrap, namespace) as relay:
        async with SqlUnitOfWork(database, tables, after_commit=relay.wake) as uow:
            uow.publish(event)
            uow.tombstone(RecordLinkedV1.topic, "district-app:rec-0")
            await uow.commit()
        await published(relay, 2)
    after = dt.datetime.now(dt.UTC)
    records = await read_topic(kafka_bootstrap, namespace + RecordLinkedV1.topic)
    [sent], [tombstone] = [r for r in records if r.value is not None], [r for r in records if r.value is None]
    envelope = CloudEvent.from_headers(sent.headers)
    expected = event.envelope()
    assert [name for name, _ in sent.headers][:8] == list(expected.header_values())
    assert (envelope.source, envelope.type, envelope.subject, envelope.dataschema) == (
        expected.source, expected.type, expected.subject, expected.dataschema)
    assert before <= envelope.time <= after
    assert envelope.time.tzinfo is not None
    assert len(envelope.id) == 36
    assert (sent.key, sent.value) == (event.key.encode(), event.to_bytes())
    assert not [name for name, _ in tombstone.headers if name.startswith("ce_") or name == "content-type"]
