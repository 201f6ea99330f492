"""Bulk writes (`simpul_platform.bulk`) keep every value as the column types say, whichever rowset carries them.

On PostgreSQL plain columns (JSON ones too) travel as one JSON document (`json_to_recordset`) and columns with
bind processing (encrypted text, enums) as one array per column; SQLite takes a multi-row statement. The values
read back must be the values written: text with quotes and non-ASCII letters, NULLs, big integers, exact floats,
dates, and times, a naive one read as UTC as asyncpg reads it (never in the server's time zone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    MetaData,
    String,
    Table,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError

from simpul_platform.bulk import COPY_FROM, insert_rows, insert_select, upsert_rows
from simpul_platform.consumer import is_unavailable
from simpul_platform.database import Database
from simpul_platform.field_encryption import EncryptedString, development_keyring

metadata = MetaData()
plain = Table(
    "plain_rows", metadata,
    Column("key", String(40), primary_key=True),
    Column("text", String(200)),
    Column("count", BigInteger),
    Column("ratio", Float),
    Column("day", Date),
    Column("at", DateTime(timezone=True)),
    Column("flag", Boolean),
)
documents = Table(
    "document_rows", metadata,
    Column("key", String(40), primary_key=True),
    Column("document", JSON),
)
encrypted = Table(  # bind processing: one array per column
    "encrypted_rows", metadata,
    Column("key", String(40), primary_key=True),
    Column("name", EncryptedString("encrypted_rows.name")),
)
AT = dt.datetime(2026, 12, 1, 7, 30, 15, 123456, tzinfo=dt.UTC)


def plain_row(key: str, **changes: object) -> dict[str, object]:
    return {"key": key, "text": "Siti \"Aminah\" — Kesilir, 'desa'", "count": 2**53 + 1, "ratio": 0.1 + 0.2,
            "day": dt.date(2013, 7, 7), "at": AT, "flag": True} | changes


async def read(database: Database, table: Table) -> dict[str, tuple[object, ...]]:
    async with database.session() as session:
        return {row[0]: tuple(row[1:]) for row in (await session.execute(select(table))).all()}


async def test_upserted_values_read_back_unchanged(any_store: Callable[[str], str]) -> None:
    database = Database(any_store("bulk_rows"), keyring=development_keyring())
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        naive = AT.replace(tzinfo=None)
        rows = [plain_row("a"), plain_row("b", text=None, count=None, ratio=None, day=None, at=None, flag=None),
                plain_row("c", at=naive, flag=False)]
        async with database.session() as session, session.begin():
            if not database.is_sqlite:  # a server in Jakarta's time zone must still read the naive time as UTC
                await session.execute(text("SET LOCAL TIME ZONE 'Asia/Jakarta'"))
            await upsert_rows(session, plain, rows, key=["key"])
            await upsert_rows(session, documents, [{"key": "a", "document": {"names": ["Siti", "Ratna"]}},
                                                   {"key": "b", "document": ["35.09", "52.03"]},
                                                   {"key": "c", "document": None}], key=["key"])
            await upsert_rows(session, encrypted, [{"key": "a", "name": "Siti Aminah"}, {"key": "b", "name": None}],
                              key=["key"])
        async with database.session() as session, session.begin():  # the update half of the upsert
            await upsert_rows(session, plain, [plain_row("a", count=7, text="changed")], key=["key"])

        stored = await read(database, plain)
        assert stored["a"][:3] == ("changed", 7, 0.1 + 0.2)
        assert stored["b"] == (None,) * 6
        assert stored["c"][0] == "Siti \"Aminah\" — Kesilir, 'desa'"
        assert stored["c"][1:3] == (2**53 + 1, 0.1 + 0.2)
        assert stored["c"][3] == dt.date(2013, 7, 7)
        assert _as_utc(stored["c"][4]) == AT  # the naive time was UTC
        assert stored["c"][5] is False
        stored_documents = await read(database, documents)
        assert stored_documents["a"] == ({"names": ["Siti", "Ratna"]},)
        assert stored_documents["b"] == (["35.09", "52.03"],)  # a list stays one document, never an array's rows
        assert stored_documents["c"] == (None,)
        assert await read(database, encrypted) == {"a": ("Siti Aminah",), "b": (None,)}
    finally:
        await database.dispose()


@pytest.mark.postgres
async def test_constants_of_an_insert_select_reach_every_row_with_their_column_types(
        make_database: Callable[[str], str]) -> None:
    """Columns every row shares travel once as parameters beside the rows' document (the inbox's consumer and
    time), through their column's bind processing (an encrypted constant), a naive time as UTC; run twice so the
    compiled statement is used again."""
    database = Database(make_database("bulk_constants"), keyring=development_keyring())
    naive = AT.replace(tzinfo=None)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        for keys in (("a", "b"), ("c", "d")):
            async with database.session() as session, session.begin():
                await session.execute(text("SET LOCAL TIME ZONE 'Asia/Jakarta'"))
                answer = await insert_select(
                    session, plain, [{"key": key, "count": n} for n, key in enumerate(keys)],
                    lambda into: into.returning(plain.c.key), shape="test",
                    constants={"text": f"shared {keys[0]}", "at": naive, "flag": True})
                assert sorted(answer.scalars().all()) == list(keys)
                await insert_select(session, encrypted, [{"key": key} for key in keys], lambda into: into,
                                    shape="test", constants={"name": "Siti Aminah"})
        stored = await read(database, plain)
        assert {key: (row[0], row[1], _as_utc(row[4]), row[5]) for key, row in stored.items()} == {
            "a": ("shared a", 0, AT, True), "b": ("shared a", 1, AT, True),
            "c": ("shared c", 0, AT, True), "d": ("shared c", 1, AT, True)}
        assert await read(database, encrypted) == {key: ("Siti Aminah",) for key in "abcd"}
    finally:
        await database.dispose()


def _as_utc(value: object) -> dt.datetime:
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite keeps no offset


@pytest.mark.postgres
async def test_a_copy_that_breaks_a_constraint_is_a_database_error_not_an_outage(
        make_database: Callable[[str], str]) -> None:
    """COPY runs on the driver's connection, around SQLAlchemy: its errors came out as bare asyncpg errors, which a
    consumer took for an outage (redelivering the batch without end) instead of a poison batch to halve."""
    database = Database(make_database("bulk_copy_errors"))
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        rows = [plain_row(f"k{n}") for n in range(COPY_FROM)] + [plain_row("k0")]  # COPY, with one key twice
        with pytest.raises(IntegrityError) as refused:
            await _insert(database, rows)
        assert not is_unavailable(refused.value)
        assert "plain_rows" in str(refused.value)
        assert await read(database, plain) == {}  # nothing of the COPY was kept
    finally:
        await database.dispose()


async def _insert(database: Database, rows: list[dict[str, object]]) -> None:
    async with database.session() as session, session.begin():
        await insert_rows(session, plain, rows)
