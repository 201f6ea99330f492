"""Reporting's read model: which person each source record belongs to, and where."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, String, Table

from simpul_platform.delivery_tables import delivery_tables

metadata = MetaData()
delivery = delivery_tables(metadata)

record_persons = Table(
    "record_persons",
    metadata,
    Column("record_key", String(140), primary_key=True),
    # No index on person or village: the one read (distinct persons per village) aggregates the whole table.
    Column("person_id", String(40), nullable=False),
    Column("village_code", String(13)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
