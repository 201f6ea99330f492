"""Where reporting keeps its indicator facts: the abstract repository, its SQL one and its in-memory one.

Every save is idempotent (a fact is keyed by its event id; a redelivered event changes nothing) and one bulk
statement per call; the reads return the facts of the units a batch touches, from which the counters
(`reporting.adapters.indicator_counters`, part of the same repository) are moved.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import Table, and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.adapters.indicator_counters import (
    IndicatorCounters,
    InMemoryIndicatorCounters,
    SqlIndicatorCounters,
)
from reporting.adapters.indicator_tables import LIVE, FactTables
from reporting.domain.facts import (
    ChildEvent,
    ChildEventKind,
    Merge,
    ProviderEvent,
    ProviderStep,
    ReferralEvent,
    ReferralStep,
)
from simpul_platform.bulk import from_arrays

SEPARATOR = ","


class IndicatorFacts(IndicatorCounters):
    """The facts reporting counts, and the counters kept from them."""

    @abc.abstractmethod
    async def add_child_events(self, events: Sequence[ChildEvent]) -> None:
        """Keep child events not kept yet."""

    @abc.abstractmethod
    async def add_merges(self, merges: Sequence[Merge]) -> None:
        """Keep merges; an undoing marks its merge undone, whichever came first."""

    @abc.abstractmethod
    async def add_referral_events(self, events: Sequence[ReferralEvent]) -> None:
        """Keep referral events not kept yet."""

    @abc.abstractmethod
    async def add_provider_events(self, events: Sequence[ProviderEvent]) -> None:
        """Keep provider events not kept yet."""

    @abc.abstractmethod
    async def child_events_of(self, child_ids: Sequence[str]) -> list[ChildEvent]:
        """The child events of these child records, by event id."""

    @abc.abstractmethod
    async def referral_events_of(self, referral_ids: Sequence[str]) -> list[ReferralEvent]:
        """The events of these referrals, by event id."""

    @abc.abstractmethod
    async def referrals_of_children(self, child_ids: Sequence[str]) -> list[ReferralEvent]:
        """The issue and service events of the referrals issued for these child records, by event id."""

    @abc.abstractmethod
    async def merges_in_force(self, *, retiring: Sequence[str] = (), into: Sequence[str] = ()) -> list[Merge]:
        """The merges not undone that retire one of `retiring` or merge into one of `into`, by merge id."""

    @abc.abstractmethod
    async def child_events(self) -> list[ChildEvent]:
        """Every child event kept, by event id."""

    @abc.abstractmethod
    async def merges(self) -> list[Merge]:
        """Every merge kept, by merge id."""

    @abc.abstractmethod
    async def referral_events(self) -> list[ReferralEvent]:
        """Every referral event kept, by event id."""

    @abc.abstractmethod
    async def provider_events(self) -> list[ProviderEvent]:
        """Every provider event kept, by event id."""


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite keeps no zone: moments are stored in UTC and read back as UTC.
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class SqlIndicatorFacts(SqlIndicatorCounters, IndicatorFacts):
    """Facts in the fact tables of the unit of work's session (the live ones unless told otherwise)."""

    def __init__(self, session: AsyncSession, tables: FactTables = LIVE) -> None:
        self.session, self.tables, self.counter_tables = session, tables, tables.counters

    async def add_child_events(self, events: Sequence[ChildEvent]) -> None:
        """One INSERT ... ON CONFLICT DO NOTHING."""
        rows = [vars(e) | {"kind": e.kind.value, "occurred_at": _utc(e.occurred_at), "stamp": _utc(e.stamp)}
                for e in events]  # vars, not asdict: asdict deep-copies every value
        await self._insert(self.tables.child_events, rows, ["event_id"])

    async def add_merges(self, merges: Sequence[Merge]) -> None:
        """Merges first kept as they are; an undoing sets `undone` on the row."""
        await self._insert(self.tables.merges, [asdict(m) for m in merges if not m.undone], ["merge_id"])
        undoings = [asdict(m) for m in merges if m.undone]
        await self._insert(self.tables.merges, undoings, ["merge_id"], update=["undone"])

    async def add_referral_events(self, events: Sequence[ReferralEvent]) -> None:
        """One INSERT ... ON CONFLICT DO NOTHING."""
        rows = [vars(e) | {"step": e.step.value, "at": _utc(e.at), "service_types": SEPARATOR.join(e.service_types)}
                for e in events]
        await self._insert(self.tables.referral_events, rows, ["event_id"])

    async def add_provider_events(self, events: Sequence[ProviderEvent]) -> None:
        """One INSERT ... ON CONFLICT DO NOTHING."""
        rows = [asdict(e) | {"step": e.step.value, "recorded_at": _utc(e.recorded_at),
                             "districts": SEPARATOR.join(e.districts)} for e in events]
        await self._insert(self.tables.provider_events, rows, ["event_id"])

    async def child_events(self) -> list[ChildEvent]:
        """Every row, as facts."""
        return [_child_event(row) for row in await self._all(self.tables.child_events)]

    async def child_events_of(self, child_ids: Sequence[str]) -> list[ChildEvent]:
        """The rows of these children."""
        table = self.tables.child_events
        return [_child_event(row) for row in await self._where(table, self._among(table.c.child_id, set(child_ids)))]

    async def referral_events_of(self, referral_ids: Sequence[str]) -> list[ReferralEvent]:
        """The rows of these referrals."""
        table = self.tables.referral_events
        wanted = self._among(table.c.referral_id, set(referral_ids))
        return [_referral_event(row) for row in await self._where(table, wanted)]

    async def referrals_of_children(self, child_ids: Sequence[str]) -> list[ReferralEvent]:
        """Issued rows naming these children, then the service rows of those referrals."""
        table = self.tables.referral_events
        issued = [_referral_event(row) for row in await self._where(table, and_(
            self._among(table.c.child_id, set(child_ids)), table.c.step == ReferralStep.ISSUED.value))]
        if not issued:
            return []
        served = await self._where(table, and_(self._among(table.c.referral_id, {e.referral_id for e in issued}),
                                               table.c.step == ReferralStep.SERVICE_RECORDED.value))
        return sorted(issued + [_referral_event(row) for row in served], key=lambda e: e.event_id)

    async def merges_in_force(self, *, retiring: Sequence[str] = (), into: Sequence[str] = ()) -> list[Merge]:
        """Rows not undone naming these persons."""
        table = self.tables.merges
        if not retiring and not into:
            return []
        named = (self._among(table.c.retired_person_id, set(retiring))
                 | self._among(table.c.surviving_person_id, set(into)))
        return [Merge(**row) for row in await self._where(table, and_(named, table.c.undone.is_(False)))]

    async def merges(self) -> list[Merge]:
        """Every row, as merges."""
        return [Merge(**row) for row in await self._all(self.tables.merges)]

    async def referral_events(self) -> list[ReferralEvent]:
        """Every row, as facts."""
        return [_referral_event(row) for row in await self._all(self.tables.referral_events)]

    async def provider_events(self) -> list[ProviderEvent]:
        """Every row, as facts."""
        return [ProviderEvent(**(row | {"step": ProviderStep(row["step"]), "recorded_at": _utc(row["recorded_at"]),
                                        "districts": _split(row["districts"])}))
                for row in await self._all(self.tables.provider_events)]

    async def _all(self, table: Table) -> list[dict[str, Any]]:
        key = list(table.primary_key.columns)
        result = await self.session.execute(select(table).order_by(*key))
        return [dict(row) for row in result.mappings()]

    async def _where(self, table: Table, condition: Any) -> list[dict[str, Any]]:
        key = list(table.primary_key.columns)
        result = await self.session.execute(select(table).where(condition).order_by(*key))
        return [dict(row) for row in result.mappings()]

    async def _insert(self, table: Table, rows: Sequence[Mapping[str, Any]], key: list[str],
                      update: Sequence[str] = ()) -> None:
        """Insert rows whose key is new; with `update`, set those columns on the rows that exist."""
        rows = list({tuple(row[k] for k in key): row for row in rows}.values())  # no key twice in one statement
        if not rows:
            return
        names = list(rows[0])
        if self.session.get_bind().dialect.name == "postgresql":
            rowset, parameters = from_arrays(table, names, rows)
            statement = postgresql.insert(table).from_select(names, rowset)
            await self.session.execute(_on_conflict(statement, key, update), parameters)
            return
        await self.session.execute(_on_conflict(sqlite.insert(table), key, update), list(rows))


def _on_conflict(statement: Any, key: list[str], update: Sequence[str]) -> Any:
    if not update:
        return statement.on_conflict_do_nothing(index_elements=key)
    return statement.on_conflict_do_update(index_elements=key, set_={n: statement.excluded[n] for n in update})


def _split(joined: str) -> tuple[str, ...]:
    return tuple(joined.split(SEPARATOR)) if joined else ()


def _child_event(row: dict[str, Any]) -> ChildEvent:
    return ChildEvent(**(row | {"kind": ChildEventKind(row["kind"]), "occurred_at": _utc(row["occurred_at"]),
                                "stamp": _utc(row["stamp"])}))


def _referral_event(row: dict[str, Any]) -> ReferralEvent:
    return ReferralEvent(**(row | {"step": ReferralStep(row["step"]), "at": _utc(row["at"]),
                                   "service_types": _split(row["service_types"])}))


class InMemoryIndicatorFacts(InMemoryIndicatorCounters, IndicatorFacts):
    """Facts in dicts keyed like the tables (the fake unit of work snapshots and restores them)."""

    def __init__(self) -> None:
        super().__init__()
        self.children: dict[str, ChildEvent] = {}
        self.merge_rows: dict[str, Merge] = {}
        self.referrals: dict[str, ReferralEvent] = {}
        self.providers: dict[str, ProviderEvent] = {}

    async def add_child_events(self, events: Sequence[ChildEvent]) -> None:
        """Keep the new ones."""
        self.children = {e.event_id: e for e in events} | self.children

    async def add_merges(self, merges: Sequence[Merge]) -> None:
        """A merge kept as it is, an undoing marks it."""
        for merge in merges:
            held = self.merge_rows.get(merge.merge_id)
            undone = merge.undone or (held is not None and held.undone)
            self.merge_rows[merge.merge_id] = replace(held or merge, undone=undone)

    async def add_referral_events(self, events: Sequence[ReferralEvent]) -> None:
        """Keep the new ones."""
        self.referrals = {e.event_id: e for e in events} | self.referrals

    async def add_provider_events(self, events: Sequence[ProviderEvent]) -> None:
        """Keep the new ones."""
        self.providers = {e.event_id: e for e in events} | self.providers

    async def child_events(self) -> list[ChildEvent]:
        """By event id."""
        return [self.children[k] for k in sorted(self.children)]

    async def merges(self) -> list[Merge]:
        """By merge id."""
        return [self.merge_rows[k] for k in sorted(self.merge_rows)]

    async def child_events_of(self, child_ids: Sequence[str]) -> list[ChildEvent]:
        """By event id."""
        wanted = set(child_ids)
        return [e for e in await self.child_events() if e.child_id in wanted]

    async def referral_events_of(self, referral_ids: Sequence[str]) -> list[ReferralEvent]:
        """By event id."""
        wanted = set(referral_ids)
        return [e for e in await self.referral_events() if e.referral_id in wanted]

    async def referrals_of_children(self, child_ids: Sequence[str]) -> list[ReferralEvent]:
        """By event id."""
        wanted = set(child_ids)
        issued = {e.referral_id for e in self.referrals.values() if e.step is ReferralStep.ISSUED
                  and e.child_id in wanted}
        return [e for e in await self.referral_events() if e.referral_id in issued and e.step in (
            ReferralStep.ISSUED, ReferralStep.SERVICE_RECORDED)]

    async def merges_in_force(self, *, retiring: Sequence[str] = (), into: Sequence[str] = ()) -> list[Merge]:
        """By merge id."""
        return [m for m in await self.merges() if not m.undone and (
            m.retired_person_id in retiring or m.surviving_person_id in into)]

    async def referral_events(self) -> list[ReferralEvent]:
        """By event id."""
        return [self.referrals[k] for k in sorted(self.referrals)]

    async def provider_events(self) -> list[ProviderEvent]:
        """By event id."""
        return [self.providers[k] for k in sorted(self.providers)]
