"""Identity's tables: persons and the source records linked to them."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, PrimaryKeyConstraint, String, Table

from simpul_platform.delivery_tables import delivery_tables

metadata = MetaData()
delivery = delivery_tables(metadata)

persons = Table(
    "persons",
    metadata,
    Column("person_id", String(40), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

source_records = Table(
    "source_records",
    metadata,
    Column("source_system", String(64), nullable=False),
    Column("source_record_id", String(64), nullable=False),
    Column("person_id", String(40), nullable=False, index=True),
    Column("exact_key", String(400), nullable=False, index=True),
    Column("nik_digest", String(64), index=True),
    Column("village_code", String(13), nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("source_system", "source_record_id"),
)
