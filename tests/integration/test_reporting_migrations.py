"""Reporting's migration 0017 both ways, on PostgreSQL and on SQLite: record_persons keeps only its primary key
(no query reads it by person or village) and gets both indexes back on the downgrade; its rows stay as they were."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from reporting.bootstrap import MIGRATIONS
from simpul_platform.migrations import _config

BEFORE = "0016"
LINK = {"record_key": "simpul-registry:chd_1", "person_id": "per_1", "village_code": "33.74.12.1001",
        "updated_at": dt.datetime(2026, 12, 4, 22, 30, tzinfo=dt.UTC)}


def _migrate(connection: sa.Connection, revision: str, down: bool = False) -> None:
    config = _config(MIGRATIONS, str(connection.engine.url))
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


def _indexed_columns(connection: sa.Connection) -> list[list[str | None]]:
    return sorted(index["column_names"] for index in sa.inspect(connection).get_indexes("record_persons"))


def _links(connection: sa.Connection) -> list[tuple[str, str, str]]:
    return [tuple(row) for row in connection.execute(  # type: ignore[misc]
        sa.text("SELECT record_key, person_id, village_code FROM record_persons"))]


async def test_record_persons_loses_its_unread_indexes_and_gets_them_back_on_the_downgrade(
        any_store: Callable[[str], str]) -> None:
    engine = create_async_engine(any_store("reporting"))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, BEFORE)
            before = await connection.run_sync(_indexed_columns)
            insert = sa.text("INSERT INTO record_persons VALUES (:record_key, :person_id, :village_code, :updated_at)"
                             ).bindparams(sa.bindparam("updated_at", type_=sa.DateTime(timezone=True)))
            await connection.execute(insert, LINK)
            await connection.run_sync(_migrate, "head")
            at_head = await connection.run_sync(_indexed_columns)
            links_at_head = await connection.run_sync(_links)
            await connection.run_sync(_migrate, BEFORE, True)
            again = await connection.run_sync(_indexed_columns)
            links_after = await connection.run_sync(_links)
    finally:
        await engine.dispose()
    assert before == again == [["person_id"], ["village_code"]]
    assert at_head == []
    assert links_at_head == links_after == [(LINK["record_key"], LINK["person_id"], LINK["village_code"])]
