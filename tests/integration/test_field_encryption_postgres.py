"""Encrypted columns on a real PostgreSQL (asyncpg) and on a SQLite file: only tokens reach the disk."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text

from simpul_platform.database import Database
from simpul_platform.field_encryption import (
    EncryptedString,
    InvalidTokenError,
    Keyring,
    bind_keyring,
    blind_index,
)

NIK = "3509114203140001"  # fake: a plausible shape, no real person
OTHER_NIK = "5208024507120003"
KK = "3509110101140009"
BLIND_KEY = bytes(range(100, 132))
KEY0 = "key0:" + base64.b64encode(bytes(range(32))).decode()
KEY1 = "key1:" + base64.b64encode(bytes(range(32, 64))).decode()

metadata = MetaData()
children = Table(
    "children",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("nik", EncryptedString("children.nik")),
    Column("nik_index", String(64), index=True),  # the blind index: equality look-ups and duplicate checks
    Column("kk", EncryptedString("children.kk")),
)


@pytest.fixture
def database_url(any_store: Callable[[str], str]) -> str:
    """A fresh, empty database on each store."""
    return any_store("fields")


@pytest.fixture
async def database(database_url: str, keyring: Keyring) -> AsyncIterator[Database]:
    """The children table created through SQLAlchemy Core on the async engine, with the service's keyring."""
    database = Database(database_url, pool_size=2, keyring=keyring)
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
def keyring() -> Keyring:
    """The service's keyring, as its bootstrap reads it from settings."""
    return Keyring.from_setting(KEY0)


async def _add(database: Database, child_id: int, nik: str, kk: str | None = None) -> None:
    async with database.engine.begin() as connection:
        values = {"id": child_id, "nik": nik, "nik_index": blind_index(nik, BLIND_KEY), "kk": kk}
        await connection.execute(insert(children).values(**values))


async def _raw(database: Database, column: str, child_id: int) -> str:
    async with database.engine.connect() as connection:
        result = await connection.execute(text(f"select {column} from children where id = :id"), {"id": child_id})
        return str(result.scalar_one())


async def test_only_a_token_is_stored_and_the_type_reads_the_nik_back(database: Database, keyring: Keyring) -> None:
    await _add(database, 1, NIK, KK)
    await _add(database, 2, OTHER_NIK)

    raw = await _raw(database, "nik", 1)
    assert NIK not in raw
    assert raw.startswith("v2:key0:")
    assert KK not in await _raw(database, "kk", 1)
    assert keyring.decrypt(raw, "children.nik") == NIK

    async with database.engine.connect() as connection:
        row = (await connection.execute(select(children).where(children.c.id == 1))).one()
        assert (row.nik, row.kk) == (NIK, KK)
        assert (await connection.execute(select(children.c.kk).where(children.c.id == 2))).scalar_one() is None
        by_index = select(children.c.id).where(children.c.nik_index == blind_index(NIK, BLIND_KEY))
        assert (await connection.execute(by_index)).scalars().all() == [1]


async def test_a_token_copied_into_another_column_does_not_decrypt(database: Database, keyring: Keyring) -> None:
    await _add(database, 1, NIK)
    async with database.engine.begin() as connection:
        await connection.execute(text("update children set kk = nik where id = 1"))
    async with database.engine.connect() as connection:
        result = await connection.execute(select(children.c.kk).where(children.c.id == 1))
        with pytest.raises(InvalidTokenError) as error:
            result.scalar_one()  # rows are decrypted as they are fetched
    assert "children.kk" in str(error.value)
    assert NIK not in str(error.value)


async def test_rows_written_before_a_key_rotation_stay_readable(database: Database, keyring: Keyring) -> None:
    await _add(database, 1, NIK)
    bind_keyring(database.engine.sync_engine, Keyring.from_setting(f"{KEY1},{KEY0}"))  # restart after rotating
    await _add(database, 2, OTHER_NIK)

    assert (await _raw(database, "nik", 1)).startswith("v2:key0:")
    assert (await _raw(database, "nik", 2)).startswith("v2:key1:")
    async with database.engine.connect() as connection:
        rows = (await connection.execute(select(children.c.id, children.c.nik).order_by(children.c.id))).all()
    assert [tuple(row) for row in rows] == [(1, NIK), (2, OTHER_NIK)]
