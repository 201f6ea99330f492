"""Re-encrypt a service's encrypted columns under its current field key, in batches, safe to rerun and to run
beside the live service.

After a new key is put first in `<SERVICE>_FIELD_KEYRING` (old keys after it, so old tokens still open) and the
service restarted, `simpul keys rotate <service>` rewrites every token that is not yet of the current version under
the current key (v1 tokens, bound to their column only, become row-bound v2 tokens where the column is row-bound).
Sealed columns are the `EncryptedString` ones and those a repository seals itself, marked `sealed_by(...)` (e.g. the
stored Idempotency-Key answers, tokens kept as bytes).
Each batch is its own transaction; a row is rewritten only if it still holds the token read, so a value the service
changed meanwhile (already under the current key) is left alone, and a second run finds nothing to do. When it
reports zero tokens left, the old keys can leave the keyring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    LargeBinary,
    MetaData,
    Table,
    Text,
    and_,
    func,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from simpul_platform.database import Database
from simpul_platform.field_encryption import (
    SEALED_BY,
    VERSION,
    EncryptedString,
    Keyring,
    SealedBy,
    bound_keyring,
    row_key,
)


@dataclass
class Rotated:
    """What a rotation of one table did."""

    table: str
    rows_seen: int = 0
    tokens_rewritten: int = 0
    tokens_changed_meanwhile: int = 0


@dataclass(frozen=True)
class SealedColumn:
    """A column holding field tokens: what they are bound to, and whether they are stored as bytes."""

    column: Column[Any]
    purpose: str
    row_bound: bool
    binary: bool

    @property
    def raw(self) -> ColumnElement[Any]:
        """The stored token, untouched by the column's type."""
        return type_coerce(self.column, LargeBinary if self.binary else Text)

    def stale(self, prefix: str) -> ColumnElement[bool]:
        """Holds a token not under `prefix` (the current version and key)."""
        if self.binary:
            head = func.substr(self.raw, 1, len(prefix)) != literal(prefix.encode(), LargeBinary)
            return and_(self.raw.isnot(None), head)
        return and_(self.raw.isnot(None), ~self.raw.startswith(prefix))

    def stored(self, token: str) -> Any:
        """A token as this column stores it."""
        return literal(token.encode() if self.binary else token, LargeBinary if self.binary else Text)


def sealed_columns(table: Table) -> list[SealedColumn]:
    """The table's sealed columns: `EncryptedString` ones and those marked `sealed_by(...)`."""
    found = []
    for column in table.columns:
        marked: SealedBy | None = column.info.get(SEALED_BY)
        if isinstance(column.type, EncryptedString):
            found.append(SealedColumn(column, column.type.purpose, column.type.row_bound, binary=False))
        elif marked is not None:
            binary = isinstance(column.type, LargeBinary)
            found.append(SealedColumn(column, marked.purpose, marked.row_bound, binary=binary))
    return found


def encrypted_columns(table: Table) -> list[Column[Any]]:
    """The table's sealed columns, as columns."""
    return [sealed.column for sealed in sealed_columns(table)]


async def rotate_field_keys(database: Database, metadata: MetaData, *, batch_size: int = 500,
                            progress: Callable[[str], None] = lambda _: None) -> list[Rotated]:
    """Rewrite every stale token of every encrypted column of `metadata`'s tables; one report per table."""
    keyring = bound_keyring(database.engine.sync_engine.dialect)
    reports = []
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        if sealed_columns(table):
            reports.append(await _rotate_table(database, table, keyring, batch_size, progress))
    return reports


async def _rotate_table(database: Database, table: Table, keyring: Keyring, batch_size: int,
                        progress: Callable[[str], None]) -> Rotated:
    columns = sealed_columns(table)
    keys = list(table.primary_key.columns)
    raw = [column.raw.label(column.column.name) for column in columns]
    stale = or_(*(column.stale(_current_prefix(keyring)) for column in columns))
    report = Rotated(table.name)
    async with database.engine.connect() as connection:
        total = (await connection.execute(select(func.count()).select_from(table).where(stale))).scalar_one()
    progress(f"{table.name}: {total} row(s) with tokens to rewrite")
    after: tuple[Any, ...] | None = None
    while True:
        query = select(*keys, *raw).where(stale).order_by(*keys).limit(batch_size)
        if after is not None:
            query = query.where(tuple_(*keys) > tuple_(*(literal(v) for v in after)))
        async with database.engine.begin() as connection:
            rows = (await connection.execute(query)).all()
            for row in rows:
                await _rewrite(connection, row, table=table, columns=columns, keys=keys, keyring=keyring,
                               report=report)
        if not rows:
            break
        after = tuple(rows[-1][: len(keys)])
        report.rows_seen += len(rows)
        progress(f"{table.name}: {report.rows_seen}/{total} rows, {report.tokens_rewritten} token(s) rewritten")
    return report


async def _rewrite(connection: Any, row: Any, *, table: Table, columns: list[SealedColumn],
                   keys: list[Column[Any]], keyring: Keyring, report: Rotated) -> None:
    identity = row[: len(keys)]
    bound_to = row_key(*(str(v) for v in identity))
    for position, sealed in enumerate(columns):
        stored = row[len(keys) + position]
        token = bytes(stored).decode() if isinstance(stored, bytes | memoryview) else stored
        if token is None or keyring.is_current(token):
            continue
        row_part = bound_to if sealed.row_bound else ""
        fresh = keyring.encrypt(keyring.decrypt(token, sealed.purpose, row_part), sealed.purpose, row_part)
        changed = await connection.execute(
            update(table)
            .where(*(k == v for k, v in zip(keys, identity, strict=True)), sealed.raw == sealed.stored(token))
            .values({sealed.column.name: sealed.stored(fresh)}))
        if changed.rowcount == 1:
            report.tokens_rewritten += 1
        else:
            report.tokens_changed_meanwhile += 1


def _current_prefix(keyring: Keyring) -> str:
    return f"{VERSION}:{keyring.current_key_id}:"  # the tokens `Keyring.is_current` leaves alone
