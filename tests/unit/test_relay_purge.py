"""Which sent outbox rows the relay purges: restricted topics soon, the rest after the long retention, never unsent."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, select, update

from simpul_contracts import Event
from simpul_contracts.events import ChildIdentityRecordedV1, RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.database import Database
from simpul_platform.delivery_tables import delivery_tables
from simpul_platform.outbox import Outbox
from simpul_platform.outbox_retention import Retention
from simpul_platform.relay import OutboxRelay

NOW = dt.datetime.now(dt.UTC)
RETENTION = Retention(kept=dt.timedelta(days=7), restricted=dt.timedelta(seconds=60))


def _identity(n: int) -> ChildIdentityRecordedV1:
    return ChildIdentityRecordedV1(child_id=f"c{n}", source_system="s", source_record_id=f"c{n}", full_name="Siti",
                                   sex="female", village_code="35.09.11.2007", recorded_at=NOW)


def _linked(n: int) -> RecordLinkedV1:
    return RecordLinkedV1(source_system="s", source_record_id=f"r{n}", person_id="p", reason=LinkReason.NEW_PERSON,
                          linked_at=NOW)


def test_restricted_topics_and_topics_of_unknown_class_are_kept_briefly() -> None:
    assert RETENTION.period(ChildIdentityRecordedV1.topic) == dt.timedelta(seconds=60)
    assert RETENTION.period(RecordLinkedV1.topic) == dt.timedelta(days=7)
    assert RETENTION.period("nobody.knows.v1") == dt.timedelta(seconds=60)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[tuple[Database, Table]]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    metadata = MetaData()
    outbox = delivery_tables(metadata).outbox
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database, outbox
    await database.dispose()


async def _write(database: Database, outbox: Table, events: list[Event], sent_at: dt.datetime | None) -> list[str]:
    async with database.session() as session, session.begin():
        ids = await Outbox(outbox).add(session, *events)
        if sent_at is not None:
            rows = (await session.execute(select(outbox.c.seq, outbox.c.topic).where(outbox.c.event_id.in_(ids))))
            for purge_after, seqs in RETENTION.deadlines(rows.tuples(), sent_at).items():
                marked = update(outbox).where(outbox.c.seq.in_(seqs))
                await session.execute(marked.values(sent_at=sent_at, purge_after=purge_after))
    return ids


async def _left(database: Database, outbox: Table) -> set[str]:
    async with database.session() as session:
        return set((await session.execute(select(outbox.c.event_id))).scalars())


async def test_purge_deletes_only_sent_rows_past_their_retention_in_bounded_batches(
    store: tuple[Database, Table],
) -> None:
    database, outbox = store
    now = dt.datetime.now(dt.UTC)  # not the import time: the suite may have run for minutes since
    two_minutes_ago = now - dt.timedelta(minutes=2)
    old_restricted = await _write(database, outbox, [_identity(n) for n in range(3)], two_minutes_ago)
    old_linked = await _write(database, outbox, [_linked(n) for n in range(2)], two_minutes_ago)
    recent_restricted = await _write(database, outbox, [_identity(9)], now)
    stale_linked = await _write(database, outbox, [_linked(9)], now - dt.timedelta(days=8))
    unsent = await _write(database, outbox, [_identity(7), _linked(7)], None)
    relay = OutboxRelay(database, outbox, "unused:9092", batch_size=2, poll_seconds=1, retention=RETENTION)

    assert await relay.purge_once() == 2  # bounded by the batch size
    assert await relay.purge_once() == 2
    assert await relay.purge_once() == 0
    assert await _left(database, outbox) == {*old_linked, *recent_restricted, *unsent}
    assert not {*old_restricted, *stale_linked} & await _left(database, outbox)
