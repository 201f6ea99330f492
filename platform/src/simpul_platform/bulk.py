"""Many rows into one table at once: COPY (or one unnest statement) on PostgreSQL, a multi-row INSERT elsewhere.

A multi-row INSERT through SQLAlchemy handles each value in Python, which dominates a bulk import of thousands
of rows. COPY runs on the session's own connection, so the rows stay inside the caller's transaction, and every
value still goes through its column type's bind processing (encryption of EncryptedString columns, JSON, enums).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import UTC
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    Insert,
    Integer,
    String,
    Table,
    TypeDecorator,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy import column as sql_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Result
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

COPY_FROM = 200  # rows from which COPY pays for itself
PLAIN_TYPES = (String, Integer, Float, DateTime, Date, Boolean, JSON)  # JSON documents nest in the rows' document
DOCUMENT = "rows_document"
# Driver SQL of INSERT ... SELECT statements over a rows' document, and the order of its parameters, by (table,
# columns, constant columns, shape): compiled once.
_COMPILED: dict[tuple[Table, tuple[str, ...], tuple[str, ...], Hashable], tuple[str, tuple[str, ...]]] = {}


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (each with the same keys) into `table` in the session's transaction."""
    if not rows:
        return
    connection = await session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    if len(rows) < COPY_FROM or dialect.name != "postgresql" or _needs_python_defaults(table, names):
        await session.execute(insert(table), list(rows))
        return
    processors = [(index, process) for index, name in enumerate(names)
                  if (process := table.c[name].type._cached_bind_processor(dialect)) is not None]
    values = itemgetter(*names)
    records = []
    for row in rows:
        record = list(values(row)) if len(names) > 1 else [row[names[0]]]
        for index, process in processors:
            record[index] = process(record[index])
        records.append(record)
    raw = await connection.get_raw_connection()
    try:
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=records, columns=names, schema_name=table.schema)
    except Exception as error:
        raise _as_statement_error(error, table) from error


def _as_statement_error(error: Exception, table: Table) -> Exception:
    """A server's error on COPY as SQLAlchemy raises a statement's (COPY goes around it, on the driver's connection):
    IntegrityError, DataError or DBAPIError with the driver's error as `orig`. A bare driver error reads as a failure
    to connect (`consumer.is_unavailable`), and a consumer would redeliver its batch without end."""
    sqlstate = str(getattr(error, "sqlstate", None) or "")
    if not sqlstate:
        return error
    kind = {"23": IntegrityError, "22": DataError}.get(sqlstate[:2], DBAPIError)
    return kind(f"COPY {table.name}", None, error)


def _needs_python_defaults(table: Table, names: list[str]) -> bool:
    # COPY skips SQLAlchemy's client-side defaults; the database's own (server defaults, sequences) still apply.
    return any(column.default is not None and column.name not in names for column in table.columns)


def from_arrays(table: Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> tuple[Any, dict[str, Any]]:
    """The rows as a rowset PostgreSQL reads from one or a few parameters, and those parameters (PostgreSQL only).

    When every column is plain (text, numbers, times, booleans, JSON; no bind processing), the rows travel as ONE JSON
    document read by `json_to_recordset`: pydantic's Rust encoder writes it and the server parses it. Otherwise,
    `unnest(:a, :b, ...)` over one array per column, where asyncpg checks each element of each array in Python
    (two ABC checks per text value, the largest cost of a consumer's inbox claim). Either way one statement,
    however many rows, where a multi-row VALUES has a parameter per value and SQLAlchemy processes each.
    """
    columns = [table.c[name] for name in names]
    document_rows = _document(table, names, rows)
    if document_rows is not None:
        document = bindparam(DOCUMENT, type_=JSON)
        rowset = func.json_to_recordset(document).table_valued(
            *(sql_column(column.name, column.type) for column in columns)).render_derived(with_types=True)
        return select(*(rowset.c[name] for name in names)), {DOCUMENT: document_rows}
    arrays = [bindparam(f"{name}_values", type_=ARRAY(table.c[name].type)) for name in names]
    rowset = func.unnest(*arrays).table_valued(*names).render_derived()
    return select(*(rowset.c[name] for name in names)), {f"{n}_values": [row[n] for row in rows] for n in names}


async def insert_select(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]],
                        finish: Callable[[postgresql.Insert], Insert], *, shape: Hashable,
                        constants: Mapping[str, Any] | None = None) -> Result[Any]:
    """INSERT INTO `table` SELECT from the rows' rowset, completed by `finish` (ON CONFLICT, RETURNING), on PostgreSQL.
    `constants`: columns with the same value in every row, sent once as parameters instead of in each row.

    SQLAlchemy never caches the compiled form of a PostgreSQL INSERT (its ON CONFLICT clause is not cacheable), and
    compiling it every batch cost about as much as writing the batch's rows out. So over a rows' document (plain
    columns) the statement is compiled once per table, columns and `shape` (which names what `finish` adds) and run
    as driver SQL with the document, serialized by the JSON type as before; otherwise as a statement.
    """
    names, fixed = list(rows[0]), dict(constants or {})
    document_rows = _document(table, names, rows)
    connection = await session.connection()
    key = (table, tuple(names), tuple(fixed), shape)
    compiled_sql = _COMPILED.get(key) if document_rows is not None else None
    if document_rows is not None and compiled_sql is None:
        rowset, _ = from_arrays(table, names, rows)
        compiled = finish(_insert_from(table, names, rowset, fixed)).compile(dialect=connection.dialect)
        order = tuple(compiled.positiontup or ())
        if sorted(order) == sorted([DOCUMENT, *(_constant(name) for name in fixed)]):  # no other parameter
            compiled_sql = _COMPILED[key] = (compiled.string, order)
    if compiled_sql is not None:
        sql, order = compiled_sql
        dialect = connection.dialect
        values = {DOCUMENT: _bound(JSON(), document_rows, dialect)}
        values |= {_constant(name): _bound(table.c[name].type, value, dialect) for name, value in fixed.items()}
        return await connection.exec_driver_sql(sql, tuple(values[name] for name in order))
    rowset, parameters = from_arrays(table, names, rows)
    parameters |= {_constant(name): value for name, value in fixed.items()}
    return await session.execute(finish(_insert_from(table, names, rowset, fixed)), parameters)


def _insert_from(table: Table, names: list[str], rowset: Any, fixed: Mapping[str, Any]) -> postgresql.Insert:
    chosen = rowset.add_columns(*(bindparam(_constant(name), type_=table.c[name].type) for name in fixed))
    return postgresql.insert(table).from_select([*names, *fixed], chosen)


def _constant(name: str) -> str:
    return f"constant_{name}"


def _bound(kind: TypeEngine[Any], value: Any, dialect: Any) -> Any:
    process = kind._cached_bind_processor(dialect)
    return process(value) if process else value


def _document(table: Table, names: Sequence[str], rows: Sequence[Mapping[str, Any]],
              ) -> Sequence[Mapping[str, Any]] | None:
    """The rows as the document `json_to_recordset` reads, when every column is plain; else None."""
    columns = [table.c[name] for name in names]
    if not all(_plain(column.type) for column in columns):
        return None
    times = [column.name for column in columns if isinstance(column.type, DateTime)]
    if any(_naive(rows, name) for name in times):  # copied only then: the callers' rows are not changed
        copies = [dict(row) for row in rows]
        for name in times:  # a naive time is UTC, as asyncpg reads it; the server's time zone must not decide
            _aware(copies, name)
        return copies
    return rows


def _naive(rows: Sequence[Mapping[str, Any]], name: str) -> bool:
    return any(value is not None and value.tzinfo is None for value in (row[name] for row in rows))


def _aware(rows: list[dict[str, Any]], name: str) -> None:
    for row in rows:
        value = row[name]
        if value is not None and value.tzinfo is None:
            row[name] = value.replace(tzinfo=UTC)


def _plain(kind: TypeEngine[Any]) -> bool:
    # Types whose values JSON carries as PostgreSQL reads them back with the column's own type.
    return isinstance(kind, PLAIN_TYPES) and not isinstance(kind, (TypeDecorator, Enum, ARRAY))


async def upsert_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], *,
                      key: Sequence[str]) -> None:
    """Insert `rows` or update the rows with the same `key` columns, in one statement (no key twice in `rows`)."""
    if not rows:
        return
    names = list(rows[0])
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        def on_conflict_update(statement: postgresql.Insert) -> Insert:
            changes = {name: statement.excluded[name] for name in names if name not in key}
            return statement.on_conflict_do_update(index_elements=list(key), set_=changes)

        await insert_select(session, table, rows, on_conflict_update, shape=("update", tuple(key)))
        return
    fallback = sqlite.insert(table)
    changes = {name: fallback.excluded[name] for name in names if name not in key}
    await session.execute(fallback.on_conflict_do_update(index_elements=list(key), set_=changes), list(rows))
