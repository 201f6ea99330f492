"""One contract for every unit of work: the in-memory base of the fakes and the SQL one (SQLite, PostgreSQL) agree.

What is queued (events, audit entries, inbox claims) exists only once the unit of work commits, and all of it or
none of it does.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

import pytest
from sqlalchemy import MetaData, select

from simpul_contracts.events import RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.audit import audit_table
from simpul_platform.database import Database
from simpul_platform.delivery import Delivery
from simpul_platform.delivery_tables import delivery_tables
from simpul_platform.unit_of_work import Access, InMemoryUnitOfWork, SqlUnitOfWork, UnitOfWork, execute

metadata = MetaData()
tables = delivery_tables(metadata)
audit_log = audit_table(metadata)
CONSUMER = "tests:identity.link.v1"


class Store(Protocol):
    """A unit-of-work factory and what its committed state looks like."""

    def new(self) -> UnitOfWork: ...
    async def published(self) -> list[str]: ...
    async def audited(self) -> list[str]: ...


@dataclass
class MemoryStore:
    uow: InMemoryUnitOfWork

    def new(self) -> UnitOfWork:
        return self.uow

    async def published(self) -> list[str]:
        return [event.source_record_id for event in self.uow.published]  # type: ignore[attr-defined]

    async def audited(self) -> list[str]:
        return [resource for access in self.uow.audited for resource in access.resource_ids]


@dataclass
class SqlStore:
    database: Database
    woken: list[int]

    def new(self) -> UnitOfWork:
        return SqlUnitOfWork(self.database, tables, audit_log, after_commit=lambda: self.woken.append(1))

    async def published(self) -> list[str]:
        async with self.database.session() as session:
            payloads = (await session.execute(select(tables.outbox.c.payload).order_by(tables.outbox.c.seq))).scalars()
            return [json.loads(payload)["source_record_id"] for payload in payloads]

    async def audited(self) -> list[str]:
        async with self.database.session() as session:
            query = select(audit_log.c.resource_id).order_by(audit_log.c.id)
            return list((await session.execute(query)).scalars())


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore(InMemoryUnitOfWork())
        return
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'uow.db'}"
    else:
        make_database: Callable[[str], str] = request.getfixturevalue("make_database")
        url = make_database("uow")
    database = Database(url, pool_size=2)
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield SqlStore(database, [])
    await database.dispose()


def _event(n: int) -> RecordLinkedV1:
    return RecordLinkedV1(source_system="s", source_record_id=str(n), person_id=f"per_{n}",
                          reason=LinkReason.NEW_PERSON, linked_at=dt.datetime.now(dt.UTC))


def _delivery(n: int) -> Delivery:
    event = _event(n)
    record: Any = SimpleNamespace(topic="identity.link.v1", partition=0, offset=n, headers=[])
    return Delivery(record=record, envelope=event.envelope(), event=event)


ACCESS = Access(subject="officer", role="district_officer", action="read", resource="child",
                resource_ids=("chd_1", "chd_2"), reason="case review")


async def test_commit_writes_events_in_order_and_audit_entries_together(store: Store) -> None:
    events = [_event(n) for n in range(3)]
    async with store.new() as uow:
        uow.publish(*events[:2])
        uow.audit(ACCESS)
        uow.publish(events[2])
        await uow.commit()
    assert await store.published() == ["0", "1", "2"]
    assert await store.audited() == ["chd_1", "chd_2"]


async def test_nothing_is_written_without_a_commit(store: Store) -> None:
    async with store.new() as uow:
        uow.publish(_event(1))
        uow.audit(ACCESS)
    async def fail() -> None:
        async with store.new() as uow:
            uow.publish(_event(2))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail()
    assert await store.published() == []
    assert await store.audited() == []


async def test_inbox_claims_each_event_once_and_only_when_committed(store: Store) -> None:
    first, second = _delivery(1), _delivery(2)
    async with store.new() as uow:
        assert await uow.claim(CONSUMER, [first]) == [first]
        # rolled back: the claim is forgotten
    async with store.new() as uow:
        fresh = await uow.claim(CONSUMER, [first, second])
        await uow.commit()
    assert len(fresh) == 2
    async with store.new() as uow:
        again = await uow.claim(CONSUMER, [first, second, _delivery(3)])
        other_consumer = await uow.claim("tests:other", [first])
        await uow.commit()
    assert [d.event.source_record_id for d in again] == ["3"]  # type: ignore[attr-defined]
    assert len(other_consumer) == 1  # the inbox is per consumer


async def test_execute_runs_one_handler_and_commits(store: Store) -> None:
    async def link(command: int, uow: UnitOfWork) -> str:
        uow.publish(_event(command))
        return "linked"

    assert await execute(store.new(), link, 7) == "linked"
    assert await store.published() == ["7"]
    if isinstance(store, SqlStore):
        assert store.woken == [1]  # the relay is nudged after a commit that queued events
