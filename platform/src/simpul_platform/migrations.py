"""Alembic, driven from code: each service's migrations/env.py calls `run_env`, startup calls `upgrade`."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import Connection, MetaData, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

# One key for every service: each has its own database, and advisory locks are per database.
MIGRATION_LOCK = int.from_bytes(b"simpmigr", "big", signed=True)


def _config(script_location: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade_connection(connection: Connection, script_location: Path) -> None:
    """Upgrade to head on an open (sync) connection: used inside the async engine's run_sync."""
    config = _config(script_location, str(connection.engine.url))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(url: str, script_location: Path) -> None:
    """Bring a database to the newest revision; replicas starting together take turns (PostgreSQL lock)."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Held until this transaction ends: the next replica then finds the schema at head, nothing to do.
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            await connection.run_sync(upgrade_connection, script_location)
    finally:
        await engine.dispose()


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's env.py: online on the connection handed over, or offline as SQL."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:
        context.configure(
            url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True
        )
    else:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


# Revisions of the delivery tables every service has: each service's revision calls these. Released: never edit,
# add a new pair for the next change.
def add_outbox_purge_after() -> None:
    """Outbox `purge_after` (the sent row's deadline) and its index; rows sent before it are due at once."""
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("purge_after", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_purge_after", ["purge_after"], unique=False,
                              postgresql_where=sa.text("purge_after IS NOT NULL"),
                              sqlite_where=sa.text("purge_after IS NOT NULL"))
    op.execute("UPDATE outbox SET purge_after = sent_at WHERE sent_at IS NOT NULL")


def drop_outbox_purge_after() -> None:
    """Undo `add_outbox_purge_after`."""
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ix_outbox_purge_after", postgresql_where=sa.text("purge_after IS NOT NULL"),
                            sqlite_where=sa.text("purge_after IS NOT NULL"))
        batch_op.drop_column("purge_after")


def delete_outbox_rows_when_sent() -> None:
    """The relay deletes a row once Kafka acknowledged it: rows already sent go now, with the sent flag, the purge
    deadline and their indexes (a row left in the outbox is unsent)."""
    op.execute("DELETE FROM outbox WHERE sent_at IS NOT NULL")
    drop_outbox_purge_after()
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ix_outbox_unsent", postgresql_where=sa.text("sent_at IS NULL"),
                            sqlite_where=sa.text("sent_at IS NULL"))
        batch_op.drop_column("sent_at")


def keep_sent_outbox_rows() -> None:
    """Undo `delete_outbox_rows_when_sent` (the rows it deleted stay deleted)."""
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_unsent", ["seq"], unique=False, postgresql_where=sa.text("sent_at IS NULL"),
                              sqlite_where=sa.text("sent_at IS NULL"))
    add_outbox_purge_after()


def drop_outbox_event_id_unique() -> None:
    """No unique index on the outbox's `event_id`: nothing looks a row up by it (the relay reads by `seq`), the id
    is a random UUID drawn when the event is published, and consumers deduplicate by it in their inbox. Kept up on
    every insert, the index cost PostgreSQL about a third of writing an outbox row (random keys, a leaf page each)."""
    if op.get_context().dialect.name == "sqlite":
        # SQLite keeps the constraint unnamed, so it cannot be dropped by name: the table is copied as reflected,
        # without it.
        outbox = sa.Table("outbox", sa.MetaData(), autoload_with=op.get_bind())
        for constraint in [c for c in outbox.constraints if isinstance(c, sa.UniqueConstraint)]:
            if [column.name for column in constraint.columns] == ["event_id"]:
                outbox.constraints.discard(constraint)
        with op.batch_alter_table("outbox", copy_from=outbox, recreate="always"):
            pass
    else:
        op.drop_constraint("outbox_event_id_key", "outbox", type_="unique")


def keep_outbox_event_id_unique() -> None:
    """Undo `drop_outbox_event_id_unique`."""
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.create_unique_constraint("outbox_event_id_key", ["event_id"])


def outbox_attributes_in_columns() -> None:
    """The CloudEvents attributes an outbox row had only in its JSON document of headers (source, dataschema) get
    columns of their own, and the document goes: the relay writes the headers from the columns (id: event_id, type:
    event_type, subject: key, time: created_at). The document was written, parsed by PostgreSQL and read back for
    every event, and was most of the row."""
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("dataschema", sa.String(300), nullable=True))
    if op.get_context().dialect.name == "sqlite":
        op.execute("UPDATE outbox SET source = json_extract(headers, '$.ce_source'), "
                   "dataschema = json_extract(headers, '$.ce_dataschema')")
    else:
        op.execute("UPDATE outbox SET source = headers->>'ce_source', dataschema = headers->>'ce_dataschema'")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("headers")


def outbox_headers_document() -> None:
    """Undo `outbox_attributes_in_columns`: the headers document written again from the columns."""
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("headers", sa.JSON, nullable=True))
    if op.get_context().dialect.name == "sqlite":
        time = "replace(created_at, ' ', 'T') || '+00:00'"
        document = (f"json_object('ce_id', event_id, 'ce_source', source, 'ce_type', event_type, "
                    f"'ce_specversion', '1.0', 'ce_time', {time}, 'ce_subject', key, 'ce_dataschema', dataschema, "
                    "'content-type', 'application/json')")
    else:
        document = ("json_build_object('ce_id', event_id, 'ce_source', source, 'ce_type', event_type, "
                    "'ce_specversion', '1.0', 'ce_time', to_json(created_at) #>> '{}', 'ce_subject', key, "
                    "'ce_dataschema', dataschema, 'content-type', 'application/json')")
    empty = "json('{}')" if op.get_context().dialect.name == "sqlite" else "'{}'::json"
    op.execute(f"UPDATE outbox SET headers = CASE WHEN source IS NULL THEN {empty} ELSE {document} END")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.alter_column("headers", existing_type=sa.JSON, nullable=False)
        batch_op.drop_column("dataschema")
        batch_op.drop_column("source")
