"""`simpul keys rotate <service>`, the command itself, on each service's migrated database: every sealed column of
the service (its `EncryptedString` columns and the stored Idempotency-Key answers its repository seals) is found,
and after the rotation every token opens under the NEW key alone (the old key can leave the keyring), bound to its
row, with its value unchanged. SQLite; the PostgreSQL path of the same code is in test_key_rotation."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import LargeBinary, MetaData, Table, Text, insert, literal, select, type_coerce
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from simpul.keys import keys_app
from simpul.services import SERVICES
from simpul_platform.field_encryption import Keyring, row_key
from simpul_platform.key_rotation import SealedColumn, sealed_columns
from simpul_platform.migrations import upgrade

KEY0, KEY1 = bytes(range(32)), bytes(range(32, 64))
OLD, NEW_ONLY = Keyring([("k0", KEY0)]), Keyring([("k1", KEY1)])
SETTING = f"k1:{base64.b64encode(KEY1).decode()},k0:{base64.b64encode(KEY0).decode()}"
AT = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
ROWS = 3

SEALED = {
    "registry": {"children.nik", "children.kk_number", "idempotency_keys.body"},
    "identity": {"source_records.full_name", "source_records.birth_date", "source_records.nik",
                 "source_records.kk_number", "source_records.mother_name"},
    "referral": {"child_details.details", "webhook_endpoints.secrets", "idempotency_keys.body"},
    "reporting": set(),
}


def _metadata(service: str, url: str) -> MetaData:
    """The tables the command rotates: those of the service's runtime, built as the command builds it."""
    spec = SERVICES[service]
    metadata: MetaData = spec.build(spec.settings_with(database_url=url)).state.runtime.tables.outbox.metadata
    return metadata


def _plain(column: Any, n: int) -> Any:
    """A value of the column's type (the row's own number in its key columns, so rows differ)."""
    if getattr(column.type, "enums", None):
        return column.type.enums[0]
    python = column.type.python_type
    if python is str:
        return f"{column.name[:8]}-{n}"
    if python is int:
        return n
    if python is bool:
        return False
    if python is dt.datetime:
        return AT
    if python is dt.date:
        return AT.date()
    if python is bytes:
        return b"x"
    return {}


def _row(table: Table, n: int, sealed: list[SealedColumn]) -> tuple[dict[str, Any], dict[str, str]]:
    """A row of `table` with every sealed column under the OLD key, and the plaintexts it seals."""
    names = {s.column.name for s in sealed}
    values = {c.name: _plain(c, n) for c in table.columns
              if c.name not in names and (c.primary_key or not c.nullable) and c.server_default is None
              and not (c.primary_key and c.autoincrement is True and c.type.python_type is int)}
    key = row_key(*(str(values[c.name]) for c in table.primary_key.columns)) if all(
        c.name in values for c in table.primary_key.columns) else ""
    plaintexts = {}
    for s in sealed:
        plaintexts[s.column.name] = f"secret {table.name}.{s.column.name} {n}"
        token = OLD.encrypt(plaintexts[s.column.name], s.purpose, key if s.row_bound else "")
        values[s.column.name] = literal(token.encode(), LargeBinary) if s.binary else literal(token, Text)
    return values, plaintexts


async def _fill(url: str, metadata: MetaData) -> dict[tuple[str, str, str], str]:
    """Rows in every table with sealed columns; their plaintexts by (table, row key, column)."""
    engine = create_async_engine(url)  # no foreign-key pragma: rows stand alone
    expected = {}
    async with engine.begin() as connection:
        for table in metadata.tables.values():
            sealed = sealed_columns(table)
            for n in range(ROWS) if sealed else ():
                values, plaintexts = _row(table, n, sealed)
                await connection.execute(insert(table).values(values))
                key = row_key(*(str(values[c.name]) for c in table.primary_key.columns))
                expected |= {(table.name, key, name): text for name, text in plaintexts.items()}
    await engine.dispose()
    return expected


async def _opened_under_new_key_only(url: str, metadata: MetaData) -> dict[tuple[str, str, str], str]:
    engine = create_async_engine(url)
    opened = {}
    async with engine.connect() as connection:
        for table in metadata.tables.values():
            sealed = sealed_columns(table)
            if not sealed:
                continue
            keys = list(table.primary_key.columns)
            query = select(*keys, *(type_coerce(s.column, LargeBinary if s.binary else Text) for s in sealed))
            for row in (await connection.execute(query)).all():
                key = row_key(*(str(v) for v in row[: len(keys)]))
                for s, stored in zip(sealed, row[len(keys):], strict=True):
                    token = bytes(stored).decode() if s.binary else stored
                    assert token.startswith("v2:k1:")
                    opened[(table.name, key, s.column.name)] = NEW_ONLY.decrypt(
                        token, s.purpose, key if s.row_bound else "")
    await engine.dispose()
    return opened


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_rotate_leaves_nothing_under_the_old_key(service: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / service}.db"
    prefix = SERVICES[service].settings.model_config.get("env_prefix", "")
    monkeypatch.setenv(f"{prefix}DATABASE_URL", url)
    monkeypatch.setenv(f"{prefix}FIELD_KEYRING", SETTING)
    asyncio.run(upgrade(url, SERVICES[service].build.__globals__["MIGRATIONS"]))
    metadata = _metadata(service, url)
    assert {f"{t.name}.{s.column.name}" for t in metadata.tables.values() for s in sealed_columns(t)} == \
        SEALED[service]
    expected = asyncio.run(_fill(url, metadata))

    result = CliRunner().invoke(keys_app, ["rotate", service, "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert f"{service}: {len(expected)} token(s) rewritten" in result.output
    assert asyncio.run(_opened_under_new_key_only(url, metadata)) == expected

    again = CliRunner().invoke(keys_app, ["rotate", service])  # a rerun finds nothing left
    assert f"{service}: 0 token(s) rewritten" in again.output
