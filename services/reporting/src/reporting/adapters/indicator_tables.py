"""The tables of reporting's indicator facts: one row per counted event, keyed by its event id.

`fact_tables(metadata, prefix)` builds the set; the live one is on `orm.metadata` with no prefix, the rebuild
builds a second set (prefix `rebuild_`) on its own metadata, fills it from the topics and swaps it in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Integer, MetaData, String, Table

from reporting.adapters.orm import metadata

ID = 64


@dataclass(frozen=True)
class FactTables:
    """Child events, merges, referral events and provider events."""

    child_events: Table
    merges: Table
    referral_events: Table
    provider_events: Table

    def all(self) -> tuple[Table, ...]:
        """Every table, in a fixed order."""
        return (self.child_events, self.merges, self.referral_events, self.provider_events)


def fact_tables(on: MetaData, prefix: str = "") -> FactTables:
    """The fact tables named with `prefix` on `on`."""
    child_events = Table(
        f"{prefix}child_events", on,
        Column("event_id", String(ID), primary_key=True),
        Column("kind", String(20), nullable=False),
        Column("child_id", String(ID), nullable=False),
        Column("person_id", String(ID)),
        Column("sex", String(10), nullable=False),
        Column("birth_year", Integer),
        Column("village_code", String(13), nullable=False),
        Column("case_id", String(ID)),
        Column("classification", String(30)),
        Column("status", String(30)),
        Column("previous_status", String(30)),
        Column("closure_reason", String(30)),
        Column("child_working", Boolean),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("stamp", DateTime(timezone=True), nullable=False),
        Index(f"ix_{prefix}child_events_child_id", "child_id"),
    )
    merges = Table(
        f"{prefix}person_merges", on,
        Column("merge_id", String(ID), primary_key=True),
        Column("retired_person_id", String(ID), nullable=False),
        Column("surviving_person_id", String(ID), nullable=False),
        Column("undone", Boolean, nullable=False),
    )
    referral_events = Table(
        f"{prefix}referral_events", on,
        Column("event_id", String(ID), primary_key=True),
        Column("referral_id", String(ID), nullable=False),
        Column("provider_id", String(ID), nullable=False),
        Column("step", String(20), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("child_id", String(ID)),
        Column("district", String(5)),
        Column("service_types", String(2000), nullable=False),
        Column("reason", String(30)),
        Column("delivered_on", Date),
        Index(f"ix_{prefix}referral_events_referral_id", "referral_id"),
    )
    provider_events = Table(
        f"{prefix}provider_events", on,
        Column("event_id", String(ID), primary_key=True),
        Column("provider_id", String(ID), nullable=False),
        Column("step", String(20), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Column("districts", String(2000), nullable=False),
        Column("recommendation", String(30)),
        Column("agreement_id", String(ID)),
        Column("starts_on", Date),
        Column("ends_on", Date),
    )
    return FactTables(child_events, merges, referral_events, provider_events)


LIVE = fact_tables(metadata)
