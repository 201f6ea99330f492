"""Referral's tables: for now the pseudonymous persons it may refer (providers and referrals follow)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, String, Table

from simpul_platform.audit import audit_table
from simpul_platform.delivery_tables import delivery_tables

metadata = MetaData()
delivery = delivery_tables(metadata)
# Who read or decided what (overrides, reads of referred children); created by migration 0004.
audit_log = audit_table(metadata, resource_id_length=64)

known_persons = Table(
    "known_persons",
    metadata,
    Column("record_key", String(140), primary_key=True),
    Column("person_id", String(40), nullable=False, index=True),
    Column("village_code", String(13)),
    # When identity made the link held: a link made earlier (a replayed dead letter) never replaces it.
    Column("linked_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
