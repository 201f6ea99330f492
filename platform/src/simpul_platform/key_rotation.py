"""Re-encrypt a service's encrypted columns under its current field key, in batches, safe to rerun and to run
beside the live service.

After a new key is put first in `<SERVICE>_FIELD_KEYRING` (old keys after it, so old tokens still open) and the
service restarted, `simpul keys rotate <service>` rewrites every token that is not yet of the current version under
the current key (v1 tokens, bound to their column only, become row-bound v2 tokens where the column is row-bound).
Each batch is its own transaction; a row is rewritten only if it still holds the token read, so a value the service
changed meanwhile (already under the current key) is left alone, and a second run finds nothing to do. When it
reports zero tokens left, the old keys can leave the keyring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, MetaData, Table, Text, and_, func, literal, or_, select, tuple_, type_coerce, update

from simpul_platform.database import Database
from simpul_platform.field_encryption import VERSION, EncryptedString, Keyring, bound_keyring, row_key


@dataclass
class Rotated:
    """What a rotation of one table did."""

    table: str
    rows_seen: int = 0
    tokens_rewritten: int = 0
    tokens_changed_meanwhile: int = 0


def encrypted_columns(table: Table) -> list[Column[Any]]:
    """The table's encrypted columns."""
    return [column for column in table.columns if isinstance(column.type, EncryptedString)]


async def rotate_field_keys(database: Database, metadata: MetaData, *, batch_size: int = 500,
                            progress: Callable[[str], None] = lambda _: None) -> list[Rotated]:
    """Rewrite every stale token of every encrypted column of `metadata`'s tables; one report per table."""
    keyring = bound_keyring(database.engine.sync_engine.dialect)
    reports = []
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        if encrypted_columns(table):
            reports.append(await _rotate_table(database, table, keyring, batch_size, progress))
    return reports


async def _rotate_table(database: Database, table: Table, keyring: Keyring, batch_size: int,
                        progress: Callable[[str], None]) -> Rotated:
    columns = encrypted_columns(table)
    keys = list(table.primary_key.columns)
    raw = [type_coerce(column, Text).label(column.name) for column in columns]
    stale = or_(*(and_(r.isnot(None), ~type_coerce(c, Text).startswith(_current_prefix(keyring)))
                  for r, c in zip(raw, columns, strict=True)))
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


async def _rewrite(connection: Any, row: Any, *, table: Table, columns: list[Column[Any]], keys: list[Column[Any]],
                   keyring: Keyring, report: Rotated) -> None:
    identity = row[: len(keys)]
    bound_to = row_key(*(str(v) for v in identity))
    for position, column in enumerate(columns):
        token = row[len(keys) + position]
        if token is None or keyring.is_current(token):
            continue
        kind: EncryptedString = column.type  # type: ignore[assignment]
        row_part = bound_to if kind.row_bound else ""
        fresh = keyring.encrypt(keyring.decrypt(token, kind.purpose, row_part), kind.purpose, row_part)
        changed = await connection.execute(
            update(table)
            .where(*(k == v for k, v in zip(keys, identity, strict=True)), type_coerce(column, Text) == token)
            .values({column.name: literal(fresh, Text)}))
        if changed.rowcount == 1:
            report.tokens_rewritten += 1
        else:
            report.tokens_changed_meanwhile += 1


def _current_prefix(keyring: Keyring) -> str:
    return f"{VERSION}:{keyring.current_key_id}:"  # the tokens `Keyring.is_current` leaves alone
