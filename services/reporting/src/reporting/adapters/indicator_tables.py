"""The tables of reporting's indicators: one row per counted event (the facts), keyed by its event id, and the
counters kept from them (each child record's person, each unit's contribution, the counts per cell).

`fact_tables(metadata, prefix)` builds the set; the live one is on `orm.metadata` with no prefix, the rebuild
builds a second set (prefix `rebuild_`) on its own metadata, fills it from the topics and swaps it in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Index, Integer, MetaData, String, Table, Text, text

from reporting.adapters.orm import metadata

ID = 64


@dataclass(frozen=True)
class FactTables:
    """Child events, merges, referral events and provider events; the counters kept from them."""

    child_events: Table
    merges: Table
    referral_events: Table
    provider_events: Table
    counters: CounterTables

    def all(self) -> tuple[Table, ...]:
        """Every table, in a fixed order."""
        return (self.child_events, self.merges, self.referral_events, self.provider_events, *self.counters.all())


@dataclass(frozen=True)
class CounterTables:
    """Each child record's person, each unit's contribution, and the counts per cell, coverage step, funnel row
    and time to a step; the coverage steps summed by month."""

    child_persons: Table
    units: Table
    cells: Table
    coverage: Table
    funnel: Table
    durations: Table
    coverage_months: Table

    def all(self) -> tuple[Table, ...]:
        """Every table, in a fixed order."""
        return (self.child_persons, self.units, self.cells, self.coverage, self.funnel, self.durations,
                self.coverage_months)


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
        Index(f"ix_{prefix}referral_events_child_id", "child_id"),
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
    return FactTables(child_events, merges, referral_events, provider_events, counter_tables(on, prefix))


def _zeros(table: str) -> Index:
    # the rows whose count fell to zero, deleted after every move: on SQLite a partial index finds them. Not on
    # PostgreSQL, where an index on `value` made every update of a count write new entries in every index of the
    # table (no heap-only update): there a move is told which of its rows reached zero and deletes those by key.
    return Index(f"ix_{table}_zero", "value", sqlite_where=text("value = 0")).ddl_if(dialect="sqlite")


def _coverage(on: MetaData, name: str, dated: str) -> Table:
    # coverage steps by the day they are dated, or summed by month (`dated` "month": the first day of the month)
    return Table(
        name, on,
        Column("indicator", String(40), primary_key=True),
        Column("region_code", String(13), primary_key=True),
        Column("region_level", String(10), primary_key=True),
        Column("sex", String(6), primary_key=True),
        Column("birth_year", Integer, primary_key=True),
        Column(dated, Date, primary_key=True),
        Column("value", Integer, nullable=False),
        Index(f"ix_{name}_read", "region_level", "region_code", dated),
        _zeros(name),
    )


def counter_tables(on: MetaData, prefix: str = "") -> CounterTables:
    """The counter tables named with `prefix` on `on` (rows whose count falls to zero are deleted)."""
    child_persons = Table(
        f"{prefix}child_persons", on,
        Column("child_id", String(ID), primary_key=True),
        Column("raw_person", String(ID + 6), nullable=False),
        Column("person", String(ID + 6), nullable=False),
        Column("stamp", DateTime(timezone=True), nullable=False),
        Column("event_id", String(ID), nullable=False),
        Index(f"ix_{prefix}child_persons_raw_person", "raw_person"),
        Index(f"ix_{prefix}child_persons_person", "person"),
    )
    units = Table(
        f"{prefix}indicator_units", on,
        Column("unit", String(ID + 8), primary_key=True),
        Column("contribution", Text, nullable=False),
    )
    cells = Table(
        f"{prefix}indicator_counts", on,
        Column("indicator", String(40), primary_key=True),
        Column("region_code", String(13), primary_key=True),
        Column("region_level", String(10), primary_key=True),
        Column("period", String(10), primary_key=True),
        Column("sex", String(6), primary_key=True),
        Column("age_band", String(5), primary_key=True),
        Column("value", Integer, nullable=False),
        Index(f"ix_{prefix}indicator_counts_read", "period", "region_level", "region_code"),
        _zeros(f"{prefix}indicator_counts"),
    )
    coverage = _coverage(on, f"{prefix}coverage_counts", "day")
    funnel = Table(
        f"{prefix}funnel_counts", on,
        Column("district", String(13), primary_key=True),
        Column("provider_id", String(ID), primary_key=True),
        Column("service_type", String(64), primary_key=True),
        Column("indicator", String(40), primary_key=True),
        Column("value", Integer, nullable=False),
        _zeros(f"{prefix}funnel_counts"),
    )
    durations = Table(
        f"{prefix}duration_counts", on,
        Column("region_code", String(13), primary_key=True),
        Column("step", String(20), primary_key=True),
        Column("micros", BigInteger, primary_key=True),
        Column("value", Integer, nullable=False),
        _zeros(f"{prefix}duration_counts"),
    )
    coverage_months = _coverage(on, f"{prefix}coverage_month_counts", "month")  # a read sums months, then days
    return CounterTables(child_persons, units, cells, coverage, funnel, durations, coverage_months)


LIVE = fact_tables(metadata)
