"""The outbox and the inbox (processed events) tables, added to each service's own metadata."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for a long-lived outbox.
Sequence = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class DeliveryTables:
    """The two tables a service's migrations must create."""

    outbox: Table
    processed_events: Table


def delivery_tables(metadata: MetaData) -> DeliveryTables:
    """Define `outbox` and `processed_events` on the service's metadata."""
    outbox = Table(
        "outbox",
        metadata,
        Column("seq", Sequence, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False),  # a fresh UUID: no index to keep up (nothing reads by it)
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        # The CloudEvents attributes not in other columns (id: event_id, type: event_type, subject: key, time:
        # created_at); the relay writes the headers from them. Null for a tombstone, which has none.
        Column("source", String(200)),
        Column("dataschema", String(300)),
        Column("payload", LargeBinary),  # null: a tombstone (event_type "tombstone")
        Column("traceparent", String(64)),
        Column("created_at", DateTime(timezone=True), nullable=False),
        # No sent flag: the relay deletes a row once Kafka acknowledged it (the topic is the record of what was sent).
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    return DeliveryTables(outbox=outbox, processed_events=processed)
