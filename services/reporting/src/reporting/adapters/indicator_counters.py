"""Where reporting keeps its indicator counters: the abstract store, its SQL one and its in-memory one.

Each child record's person, each unit's contribution (one row per person or referral) and the counts per cell,
coverage step, funnel row and time to a step. A move adds deltas to the counts (one bulk upsert per table) and
deletes the rows that fell to zero, so two stores that saw the same facts in any order hold the same rows.
"""

from __future__ import annotations

import abc
import datetime as dt
import functools
import json
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import UserDefinedType

from reporting.adapters.indicator_tables import CounterTables
from reporting.domain.cells import CellKey, RegionLevel
from reporting.domain.person_tallies import ChildLink
from reporting.domain.referral_indicators import FUNNEL_COLUMNS, FunnelRow
from reporting.domain.regions import NATIONAL, within
from reporting.domain.tallies import CellCount, Contribution, CoverageKey, Deltas, DurationKey, FunnelKey
from simpul_platform.bulk import from_arrays

CoverageSum = tuple[str, str, RegionLevel, str, int, int]


class IndicatorCounters(abc.ABC):
    """The counters kept from the facts."""

    @abc.abstractmethod
    async def lock(self) -> None:
        """Hold the counters until the transaction ends: two consumers (or replicas) counting at once would each
        miss what the other has not committed yet (a child linked while its person is merged)."""

    @abc.abstractmethod
    async def child_links(self, child_ids: Iterable[str]) -> dict[str, ChildLink]:
        """The links of these child records (those known)."""

    @abc.abstractmethod
    async def links_naming(self, raw_persons: Iterable[str]) -> dict[str, ChildLink]:
        """The links of the child records whose latest event names one of these persons."""

    @abc.abstractmethod
    async def links_counted_as(self, persons: Iterable[str]) -> dict[str, ChildLink]:
        """The links of the child records counted as one of these persons."""

    @abc.abstractmethod
    async def save_links(self, links: Iterable[ChildLink]) -> None:
        """Insert or replace these links."""

    @abc.abstractmethod
    async def contributions(self, units: Iterable[str]) -> dict[str, Contribution]:
        """The kept contributions of these units (those that contribute)."""

    @abc.abstractmethod
    async def save_contributions(self, contributions: Mapping[str, Contribution]) -> None:
        """Insert or replace each unit's contribution (an empty one deletes the unit)."""

    @abc.abstractmethod
    async def move(self, deltas: Deltas) -> None:
        """Add the deltas to the counts."""

    @abc.abstractmethod
    async def cells(self, region: str, level: RegionLevel | None, period: str | None) -> Counter[CellKey]:
        """The counts of the cells in `region` and under it (only `level`, only `period` when given)."""

    @abc.abstractmethod
    async def coverage_sums(self, region: str, level: RegionLevel | None, on: dt.date) -> list[CoverageSum]:
        """(indicator, region, level, sex, birth year, count) summed over the steps dated up to `on`."""

    @abc.abstractmethod
    async def funnel(self, region: str) -> list[FunnelRow]:
        """Per (district, provider, service type) in `region`, in that order: referrals that reached each step."""

    @abc.abstractmethod
    async def durations(self, region: str, step: str, ranks: Callable[[int], Sequence[int]]) -> tuple[
            int, dict[int, int]]:
        """How many referrals of `region` reached `step`, and the microseconds from issue of those at the `ranks`
        (0-based, in duration order) that `ranks(count)` names."""


def encode(contribution: Contribution) -> str:
    """A contribution as compact JSON."""
    return json.dumps([contribution.slots, contribution.coverage, contribution.funnel, contribution.durations],
                      separators=(",", ":"))


def decode(text: str) -> Contribution:
    """A contribution read back."""
    slots, coverage, funnel, durations = json.loads(text)
    return Contribution(tuple(map(tuple, slots)), tuple(map(tuple, coverage)), tuple(map(tuple, funnel)),
                        tuple(map(tuple, durations)))


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


MONTH_FIELDS = (*CoverageKey._fields[:5], "month")


class _TidArray(UserDefinedType[Any]):
    """PostgreSQL's tid[] (row ids), to cast text to."""

    cache_ok = True

    def get_col_spec(self, **_: Any) -> str:
        return "TID[]"


TID_ARRAY = _TidArray()


@functools.lru_cache(maxsize=1 << 12)
def _first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


class SqlIndicatorCounters(IndicatorCounters):
    """Counters in the counter tables of the unit of work's session."""

    session: AsyncSession
    counter_tables: CounterTables

    def _among(self, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
        """`column IN values`; on PostgreSQL `column = ANY(:array)`, one parameter: an IN list is rendered again
        with a bind per value on every execution (a fifth of a replay's CPU went to compiling them)."""
        wanted = list(values)
        condition: ColumnElement[bool] = (
            column == any_(bindparam(None, wanted, type_=postgresql.ARRAY(column.type)))
            if self.session.get_bind().dialect.name == "postgresql" else column.in_(wanted))
        return condition

    async def lock(self) -> None:
        """A transaction-level advisory lock on PostgreSQL (SQLite has one writer at a time anyway)."""
        if self.session.get_bind().dialect.name == "postgresql":
            key = zlib.crc32(f"reporting {self.counter_tables.cells.name}".encode())
            await self.session.execute(select(func.pg_advisory_xact_lock(key)))

    async def child_links(self, child_ids: Iterable[str]) -> dict[str, ChildLink]:
        """Links by child id."""
        return await self._links(self.counter_tables.child_persons.c.child_id, child_ids)

    async def links_naming(self, raw_persons: Iterable[str]) -> dict[str, ChildLink]:
        """Links by the person their latest event names."""
        return await self._links(self.counter_tables.child_persons.c.raw_person, raw_persons)

    async def links_counted_as(self, persons: Iterable[str]) -> dict[str, ChildLink]:
        """Links by the person they count as."""
        return await self._links(self.counter_tables.child_persons.c.person, persons)

    async def _links(self, column: Any, values: Iterable[str]) -> dict[str, ChildLink]:
        wanted = list(set(values))
        if not wanted:
            return {}
        table = self.counter_tables.child_persons
        rows = await self.session.execute(select(table).where(self._among(column, wanted)))
        return {row.child_id: ChildLink(row.child_id, row.raw_person, row.person, _utc(row.stamp), row.event_id)
                for row in rows}

    async def save_links(self, links: Iterable[ChildLink]) -> None:
        """One bulk upsert."""
        rows = [{"child_id": link.child_id, "raw_person": link.raw_person, "person": link.person,
                 "stamp": link.stamp, "event_id": link.event_id} for link in links]
        await self._upsert(self.counter_tables.child_persons, rows, ["child_id"], add=False)

    async def contributions(self, units: Iterable[str]) -> dict[str, Contribution]:
        """Kept contributions by unit."""
        wanted = list(set(units))
        if not wanted:
            return {}
        table = self.counter_tables.units
        query = select(table.c.unit, table.c.contribution).where(self._among(table.c.unit, wanted))
        rows = await self.session.execute(query)
        return {unit: decode(text) for unit, text in rows}

    async def save_contributions(self, contributions: Mapping[str, Contribution]) -> None:
        """Delete the units that no longer contribute, upsert the others."""
        table = self.counter_tables.units
        gone = [unit for unit, contribution in contributions.items() if not contribution]
        if gone:
            await self.session.execute(delete(table).where(self._among(table.c.unit, gone)))
        rows = [{"unit": unit, "contribution": encode(c)} for unit, c in contributions.items() if c]
        await self._upsert(table, rows, ["unit"], add=False)

    async def move(self, deltas: Deltas) -> None:
        """One upsert adding the deltas per counter table, then the rows at zero deleted."""
        tables = self.counter_tables
        months: Counter[tuple[Any, ...]] = Counter()
        for key, value in deltas.coverage.items():
            months[(*key[:5], _first_of_month(key.day))] += value
        for table, counts, names in ((tables.cells, deltas.cells, CellCount._fields),
                                     (tables.coverage, deltas.coverage, CoverageKey._fields),
                                     (tables.funnel, deltas.funnel, FunnelKey._fields),
                                     (tables.durations, deltas.durations, DurationKey._fields),
                                     (tables.coverage_months, {k: v for k, v in months.items() if v}, MONTH_FIELDS)):
            if counts:
                await self._add(table, (*names, "value"), counts)

    async def _add(self, table: Table, names: Sequence[str], counts: Mapping[Any, int]) -> None:
        """Add each count to its counter (`names`: the key's columns, then "value"), then delete the counters that
        reached zero: on PostgreSQL the upsert returns them; on SQLite its partial index on the zeros finds them."""
        key = [c.name for c in table.primary_key.columns]
        if self.session.get_bind().dialect.name != "postgresql":
            rows = [dict(zip(names, (*counter, value), strict=True)) for counter, value in counts.items()]
            await self._upsert(table, rows, key, add=True)
            await self.session.execute(delete(table).where(table.c.value == 0))
            return
        # one array per column (unnest): no row dicts, no JSON document, for the most rows a batch writes
        columns = [*zip(*counts, strict=True), list(counts.values())]
        arrays = [bindparam(f"{name}_values", list(values), type_=postgresql.ARRAY(table.c[name].type))
                  for name, values in zip(names, columns, strict=True)]
        unnested = func.unnest(*arrays).table_valued(*names).render_derived()
        statement = postgresql.insert(table).from_select(names, select(*(unnested.c[name] for name in names)))
        statement = statement.on_conflict_do_update(index_elements=key,
                                                    set_={"value": table.c.value + statement.excluded.value})
        moved = statement.returning(literal_column("ctid").label("ctid"), table.c.value).cte("moved")
        zeros = list((await self.session.execute(
            select(cast(moved.c.ctid, Text)).where(moved.c.value == 0))).scalars())
        if zeros:  # by their row ids (a TID scan): this transaction holds those rows locked, so the ids stay theirs
            await self.session.execute(delete(table).where(
                literal_column("ctid") == any_(cast(bindparam("zeros", zeros, type_=postgresql.ARRAY(Text)),
                                                    TID_ARRAY)), table.c.value == 0))

    async def _upsert(self, table: Table, rows: Sequence[Mapping[str, Any]], key: list[str], *, add: bool) -> None:
        if not rows:
            return
        names = list(rows[0])
        if self.session.get_bind().dialect.name == "postgresql":
            rowset, parameters = from_arrays(table, names, rows)
            statement: Any = postgresql.insert(table).from_select(names, rowset)
        else:
            statement, parameters = sqlite.insert(table), None
        changes = {name: statement.excluded[name] for name in names if name not in key}
        if add:
            changes = {"value": table.c.value + statement.excluded.value}
        statement = statement.on_conflict_do_update(index_elements=key, set_=changes)
        await self.session.execute(statement, parameters if parameters is not None else list(rows))

    async def cells(self, region: str, level: RegionLevel | None, period: str | None) -> Counter[CellKey]:
        """The cells asked for, read from the counts."""
        table = self.counter_tables.cells
        query = select(table).where(_in_region(table.c.region_code, region))
        if level is not None:
            query = query.where(table.c.region_level == level.value)
        if period is not None:
            query = query.where(table.c.period == period)
        counts: Counter[CellKey] = Counter()
        for row in await self.session.execute(query):
            for key in CellCount(*row[:6]).cells():
                counts[key] += row.value
        return counts

    async def coverage_sums(self, region: str, level: RegionLevel | None, on: dt.date) -> list[CoverageSum]:
        """SUM(value) over the steps dated up to `on`, grouped by cell and birth year: the months before `on`'s
        month from the monthly sums, then the days of `on`'s month up to `on` (so a read does not grow with the
        days gone by: at most the months and one month's days per cell)."""
        first = on.replace(day=1)
        parts = []
        for table, dated, since in ((self.counter_tables.coverage_months, "month", None),
                                    (self.counter_tables.coverage, "day", first)):
            day = table.c[dated]
            query = select(table.c.indicator, table.c.region_code, table.c.region_level, table.c.sex,
                           table.c.birth_year, table.c.value).where(_in_region(table.c.region_code, region))
            query = query.where(day < first) if since is None else query.where(day >= since, day <= on)
            if level is not None:
                query = query.where(table.c.region_level == level.value)
            parts.append(query)
        both = union_all(*parts).subquery()
        groups = (both.c.indicator, both.c.region_code, both.c.region_level, both.c.sex, both.c.birth_year)
        query = select(*groups, func.sum(both.c.value)).group_by(*groups)
        return [(i, code, RegionLevel(lvl), sex, year, int(total))
                for i, code, lvl, sex, year, total in await self.session.execute(query) if total]

    async def funnel(self, region: str) -> list[FunnelRow]:
        """Funnel rows of the districts in `region`, pivoted in the database: one row per district, provider and
        service type with a column per step, not a row per step (at 1,000,000 children, ~2,000 rows, not ~10,000)."""
        table = self.counter_tables.funnel.c
        steps = [func.coalesce(func.sum(table.value).filter(table.indicator == name), 0) for name in FUNNEL_COLUMNS]
        keys = (table.district, table.provider_id, table.service_type)
        query = select(*keys, *steps).where(_in_region(table.district, region)).group_by(*keys)
        rows = sorted(await self.session.execute(query))  # sorted here, as the fake sorts (any database collation)
        return [FunnelRow(district, provider_id, service_type, dict(zip(FUNNEL_COLUMNS, counts, strict=True)))
                for district, provider_id, service_type, *counts in rows]

    async def durations(self, region: str, step: str, ranks: Callable[[int], Sequence[int]]) -> tuple[
            int, dict[int, int]]:
        """The count, then the durations at the ranks, both summed in the database (one row each)."""
        table = self.counter_tables.durations
        where = and_(table.c.region_code == region, table.c.step == step)
        total = int((await self.session.execute(select(func.coalesce(func.sum(table.c.value), 0)).where(where)))
                    .scalar_one())
        wanted = sorted(set(ranks(total))) if total else []
        if not wanted:
            return total, {}
        upto = func.sum(table.c.value).over(order_by=table.c.micros).label("upto")
        ordered = select(table.c.micros, upto).where(where).subquery()
        picks = [func.min(ordered.c.micros).filter(ordered.c.upto > rank) for rank in wanted]
        found = (await self.session.execute(select(*picks))).one()
        return total, {rank: int(micros) for rank, micros in zip(wanted, found, strict=True)}


def _in_region(column: Any, region: str) -> ColumnElement[bool]:
    if region == NATIONAL:
        return true()
    return or_(column == region, column.startswith(region + ".", autoescape=True))


class InMemoryIndicatorCounters(IndicatorCounters):
    """Counters in dicts (the fake unit of work snapshots and restores them)."""

    def __init__(self) -> None:
        self.links: dict[str, ChildLink] = {}
        self.units: dict[str, Contribution] = {}
        self.counts = Deltas.none()

    async def lock(self) -> None:
        """Nothing to hold: the fake runs one transaction at a time."""

    async def child_links(self, child_ids: Iterable[str]) -> dict[str, ChildLink]:
        """Links by child id."""
        return {c: self.links[c] for c in set(child_ids) if c in self.links}

    async def links_naming(self, raw_persons: Iterable[str]) -> dict[str, ChildLink]:
        """Links by the person their latest event names."""
        wanted = set(raw_persons)
        return {c: link for c, link in self.links.items() if link.raw_person in wanted}

    async def links_counted_as(self, persons: Iterable[str]) -> dict[str, ChildLink]:
        """Links by the person they count as."""
        wanted = set(persons)
        return {c: link for c, link in self.links.items() if link.person in wanted}

    async def save_links(self, links: Iterable[ChildLink]) -> None:
        """Insert or replace."""
        self.links |= {link.child_id: link for link in links}

    async def contributions(self, units: Iterable[str]) -> dict[str, Contribution]:
        """Kept contributions by unit."""
        return {u: self.units[u] for u in set(units) if u in self.units}

    async def save_contributions(self, contributions: Mapping[str, Contribution]) -> None:
        """Insert, replace or delete."""
        for unit, contribution in contributions.items():
            if contribution:
                self.units[unit] = contribution
            else:
                self.units.pop(unit, None)

    async def move(self, deltas: Deltas) -> None:
        """Add, and forget the zeros."""
        self.counts.cells.update(deltas.cells)
        self.counts.coverage.update(deltas.coverage)
        self.counts.funnel.update(deltas.funnel)
        self.counts.durations.update(deltas.durations)
        self.counts = self.counts.nonzero()

    async def cells(self, region: str, level: RegionLevel | None, period: str | None) -> Counter[CellKey]:
        """The cells asked for."""
        counts: Counter[CellKey] = Counter()
        for k, v in self.counts.cells.items():
            if within(k.region_code, region) and (level is None or k.region_level == level) and (
                    period is None or k.period == period):
                for key in k.cells():
                    counts[key] += v
        return counts

    async def coverage_sums(self, region: str, level: RegionLevel | None, on: dt.date) -> list[CoverageSum]:
        """Summed over the steps dated up to `on`."""
        sums: Counter[tuple[str, str, RegionLevel, str, int]] = Counter()
        for key, value in self.counts.coverage.items():
            if key.day <= on and within(key.region_code, region) and (level is None or key.region_level == level):
                sums[(key.indicator, key.region_code, RegionLevel(key.region_level), key.sex, key.birth_year)] += value
        return [(*group, total) for group, total in sorted(sums.items()) if total]

    async def funnel(self, region: str) -> list[FunnelRow]:
        """Funnel rows of the districts in `region`."""
        found: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(FUNNEL_COLUMNS, 0))
        for key, value in self.counts.funnel.items():
            if within(key.district, region):
                found[(key.district, key.provider_id, key.service_type)][key.indicator] = value
        return [FunnelRow(*key, counts) for key, counts in sorted(found.items())]

    async def durations(self, region: str, step: str, ranks: Callable[[int], Sequence[int]]) -> tuple[
            int, dict[int, int]]:
        """From the sorted durations."""
        values = sorted(micros for k, v in self.counts.durations.items() if k.region_code == region
                        and k.step == step for micros in [k.micros] * v)
        return len(values), {rank: values[rank] for rank in ranks(len(values))} if values else {}

