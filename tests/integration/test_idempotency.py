"""simpul_platform.idempotency on the fake's keys, SQLite and PostgreSQL: one effect and one event per key, the same
answer replayed, 422 on reuse with another request, 409 while the first is in flight, expiry and the purge."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from simpul_contracts.events import RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.database import Database
from simpul_platform.delivery_tables import delivery_tables
from simpul_platform.errors import ErrorKind
from simpul_platform.field_encryption import development_keyring
from simpul_platform.idempotency import (
    HEADER,
    Answer,
    IdempotencyKey,
    IdempotencyKeys,
    InMemoryIdempotencyKeys,
    KeyInFlight,
    KeyReused,
    SqlIdempotencyKeys,
    execute_once,
    fingerprint,
    idempotency_table,
    purge_expired,
)
from simpul_platform.unit_of_work import InMemoryUnitOfWork, SqlUnitOfWork, UnitOfWork

metadata = MetaData()
tables = delivery_tables(metadata)
keys_table = idempotency_table(metadata)
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class SqlKeyed(SqlUnitOfWork):
    idempotency_keys: IdempotencyKeys

    def repositories(self, session: AsyncSession) -> None:
        self.idempotency_keys = SqlIdempotencyKeys(session, keys_table)


class FakeKeyed(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.idempotency_keys: IdempotencyKeys = InMemoryIdempotencyKeys()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], UnitOfWork]]:
    if request.param == "memory":
        fake = FakeKeyed()
        yield lambda: fake
        return
    url = (f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}" if request.param == "sqlite"
           else request.getfixturevalue("make_database")("keys"))
    database = Database(url, pool_size=4, keyring=development_keyring())
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield lambda: SqlKeyed(database, tables)
    await database.dispose()


def key(body: object, name: str = "k-1", subject: str = "client-a") -> IdempotencyKey:
    return IdempotencyKey(subject, name, fingerprint("POST", "/things", body))


async def create(command: str, uow: UnitOfWork) -> str:
    uow.publish(RecordLinkedV1(source_system="s", source_record_id=command, person_id="per_1",
                               reason=LinkReason.NEW_PERSON, linked_at=NOW))
    return command


def answer(result: str) -> Answer:
    return Answer(201, json.dumps({"id": result}).encode())


async def published(new_uow: Callable[[], UnitOfWork]) -> int:
    uow = new_uow()
    if isinstance(uow, InMemoryUnitOfWork):
        return len(uow.published)
    assert isinstance(uow, SqlUnitOfWork)
    async with uow.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(tables.outbox)) or 0)


async def test_a_retry_gets_the_same_answer_and_nothing_happens_twice(new_uow: Callable[[], UnitOfWork]) -> None:
    first = await execute_once(new_uow(), create, "t1", key=key({"a": 1}), answer=answer, now=NOW)
    again = await execute_once(new_uow(), create, "t2", key=key({"a": 1}), answer=answer, now=NOW)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.answer == first.answer == Answer(201, b'{"id": "t1"}')
    assert await published(new_uow) == 1


async def test_the_same_key_with_another_body_is_422_naming_the_header(new_uow: Callable[[], UnitOfWork]) -> None:
    await execute_once(new_uow(), create, "t1", key=key({"a": 1}), answer=answer, now=NOW)
    with pytest.raises(KeyReused) as refused:
        await execute_once(new_uow(), create, "t2", key=key({"a": 2}), answer=answer, now=NOW)
    assert (refused.value.kind, refused.value.field) == (ErrorKind.INVALID, HEADER)
    assert await published(new_uow) == 1


async def test_keys_are_scoped_to_the_client(new_uow: Callable[[], UnitOfWork]) -> None:
    await execute_once(new_uow(), create, "t1", key=key({"a": 1}), answer=answer, now=NOW)
    other = await execute_once(new_uow(), create, "t2", key=key({"a": 2}, subject="client-b"), answer=answer, now=NOW)
    assert not other.replayed
    assert await published(new_uow) == 2


async def test_an_expired_key_is_forgotten_and_purged(new_uow: Callable[[], UnitOfWork]) -> None:
    ttl = dt.timedelta(hours=24)
    await execute_once(new_uow(), create, "t1", key=key({"a": 1}), answer=answer, now=NOW, ttl=ttl)
    await execute_once(new_uow(), create, "t2", key=key({"a": 1}, "k-2"), answer=answer, now=NOW + ttl / 2, ttl=ttl)
    assert await purge_expired(new_uow(), NOW + ttl - dt.timedelta(seconds=1)) == 0
    assert await purge_expired(new_uow(), NOW + ttl) == 1
    later = await execute_once(new_uow(), create, "t3", key=key({"a": 9}), answer=answer, now=NOW + ttl)
    assert not later.replayed  # k-1 expired: the key is free again, with any body
    replay = await execute_once(new_uow(), create, "t4", key=key({"a": 1}, "k-2"), answer=answer, now=NOW + ttl)
    assert replay.replayed
    assert replay.answer.body == b'{"id": "t2"}'


async def test_a_refused_request_stores_nothing(new_uow: Callable[[], UnitOfWork]) -> None:
    async def refuse(command: str, uow: UnitOfWork) -> str:
        await create(command, uow)
        raise KeyInFlight  # any domain error

    with pytest.raises(KeyInFlight):
        await execute_once(new_uow(), refuse, "t1", key=key({"a": 1}), answer=answer, now=NOW)
    retry = await execute_once(new_uow(), create, "t1", key=key({"a": 1}), answer=answer, now=NOW)
    assert not retry.replayed
    assert await published(new_uow) == 1


@pytest.mark.postgres
async def test_a_second_request_while_the_first_is_in_flight_is_409(make_database: Callable[[str], str]) -> None:
    database = Database(make_database("inflight"), pool_size=4, keyring=development_keyring())
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(command: str, uow: UnitOfWork) -> str:
        started.set()
        await release.wait()
        return await create(command, uow)

    try:
        first = asyncio.create_task(execute_once(SqlKeyed(database, tables), slow, "t1", key=key({"a": 1}),
                                                 answer=answer, now=NOW))
        await started.wait()
        with pytest.raises(KeyInFlight) as refused:
            await execute_once(SqlKeyed(database, tables), create, "t2", key=key({"a": 1}), answer=answer, now=NOW)
        assert (refused.value.kind, refused.value.field) == (ErrorKind.CONFLICT, HEADER)
        release.set()
        assert not (await first).replayed
        after = await execute_once(SqlKeyed(database, tables), create, "t3", key=key({"a": 1}), answer=answer,
                                   now=NOW)
        assert after.replayed
        assert after.answer.body == b'{"id": "t1"}'
    finally:
        release.set()
        await database.dispose()


def test_the_fingerprint_ignores_key_order_but_not_the_target() -> None:
    assert fingerprint("POST", "/a", {"x": 1, "y": 2}) == fingerprint("post", "/a", {"y": 2, "x": 1})
    assert fingerprint("POST", "/a", {"x": 1}) != fingerprint("POST", "/b", {"x": 1})


