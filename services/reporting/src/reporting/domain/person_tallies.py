"""What a person contributes to the counters, from all the facts of all their child records (pure Python).

The same rules as `reporting.domain.indicators` (which stays the reference): the first qualifying event of each
indicator names the person's cell; the coverage steps (see `reporting.domain.tallies`) come from the union of
the 90-day windows of the visits on each open case, the first open case by event id naming the cell.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reporting.domain.cells import CUMULATIVE, AgeBand, CellKey, RegionLevel, Sex
from reporting.domain.facts import ChildEvent, ChildEventKind, ReferralEvent
from reporting.domain.indicators import COVERAGE_DAYS, Hit, Indicator, Persons, event_hits, service_hits
from reporting.domain.regions import age_band, month, sex_of
from reporting.domain.tallies import ALWAYS, UNKNOWN, UNKNOWN_YEAR, Contribution, Slot, Step


@dataclass(frozen=True)
class ChildLink:
    """Which person a child record counts as: the person id of its latest event (`raw_person`, or the record
    itself while unlinked), followed through the merges in force (`person`)."""

    child_id: str
    raw_person: str
    person: str
    stamp: dt.datetime
    event_id: str

    @property
    def latest(self) -> tuple[dt.datetime, str]:
        """The order of the record's events: publication time, then event id."""
        return self.stamp, self.event_id


def raw_person(event: ChildEvent) -> str:
    """The person an event names (the child record itself while identity has not linked it)."""
    return event.person_id or f"child:{event.child_id}"


def resolve(person: str, alias: Mapping[str, str]) -> str:
    """A person followed through the merges in force (`alias`: retired -> surviving), stopping at a cycle."""
    seen = {person}
    while person in alias and alias[person] not in seen:
        person = alias[person]
        seen.add(person)
    return person


class LinkedPersons(Persons):
    """Persons as the counters know them: each child record's person through the merges in force, looked up."""

    def __init__(self, states: Mapping[str, ChildEvent], person_of: Mapping[str, str]) -> None:
        super().__init__(states, ())
        self.person_of = person_of

    def of(self, child_id: str) -> str:
        """The child's person (its own record while unlinked)."""
        return self.person_of.get(child_id, f"child:{child_id}")


def person_contributions(events: Sequence[ChildEvent], persons: LinkedPersons,
                         referrals: Sequence[ReferralEvent]) -> dict[str, Contribution]:
    """Every person's contribution, from all the facts of all their child records (and those records' referrals)."""
    hits = list(event_hits(events, persons))
    hits += service_hits(hits, events, referrals, persons)
    firsts: dict[tuple[str, str], Hit] = {}
    for hit in hits:
        held = firsts.get((hit.indicator, hit.person))
        if held is None or (hit.when, hit.tie) < (held.when, held.tie):
            firsts[(hit.indicator, hit.person)] = hit
    slots: dict[str, list[Slot]] = {}
    for (indicator, person), hit in firsts.items():
        band = age_band(hit.birth_year, hit.when.date())
        sex = sex_of(hit.sex)
        slots.setdefault(person, []).append((str(indicator), month(hit.when), hit.village_code,
                                             None if sex is None else sex.value, None if band is None else band.value))
    coverage = coverage_steps(events, persons)
    return {person: Contribution.of(slots.get(person, ()), coverage.get(person, ()))
            for person in slots.keys() | coverage.keys()}


def coverage_steps(events: Sequence[ChildEvent], persons: LinkedPersons) -> dict[str, list[Step]]:
    """Open cases (counted on every day) and the days each person counts as visited in the last 90 days."""
    visits: dict[str, list[int]] = {}
    for event in events:
        if event.kind is ChildEventKind.VISITED and event.case_id:
            visits.setdefault(event.case_id, []).append(event.occurred_at.date().toordinal())
    open_children: dict[str, list[ChildEvent]] = {}
    for child_id, state in persons.states.items():
        if state.case_id is not None and state.status not in (None, "closed"):
            open_children.setdefault(persons.of(child_id), []).append(state)
    steps: dict[str, list[Step]] = {}
    for person, states in open_children.items():
        states.sort(key=lambda state: state.event_id)  # the first open case by event id names the cell
        first = states[0]
        steps[person] = [(Indicator.OPEN_CASES.value, *_where(first), ALWAYS.toordinal(), 1)]
        covered: list[tuple[int, int]] = []
        for state in states:
            windows = _union([(day, day + COVERAGE_DAYS) for day in visits.get(state.case_id or "", [])])
            for start, end in _minus(windows, covered):
                steps[person] += [(Indicator.OPEN_CASES_VISITED_90_DAYS.value, *_where(state), start, 1),
                                  (Indicator.OPEN_CASES_VISITED_90_DAYS.value, *_where(state), end + 1, -1)]
            covered = _union(covered + windows)
    return steps


def _where(state: ChildEvent) -> tuple[str, str | None, int]:
    sex = sex_of(state.sex)
    return state.village_code, None if sex is None else sex.value, state.birth_year or UNKNOWN_YEAR


def _union(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Closed day intervals merged (touching ones too)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _minus(intervals: list[tuple[int, int]], taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The days of `intervals` not in `taken` (both merged and sorted)."""
    left = []
    for start, end in intervals:
        cursor = start
        for low, high in taken:
            if high < cursor or low > end:
                continue
            if low > cursor:
                left.append((cursor, low - 1))
            cursor = max(cursor, high + 1)
        if cursor <= end:
            left.append((cursor, end))
    return left


def coverage_cells(rows: Iterable[tuple[str, str, RegionLevel, str, int, int]], on: dt.date) -> Counter[CellKey]:
    """Coverage cells on day `on` from (indicator, region, level, sex, birth year, count dated up to `on`) sums,
    with the sex and age margins."""
    counts: Counter[CellKey] = Counter()
    for indicator, code, level, sex, year, value in rows:
        band = age_band(year or None, on)
        for each_sex in ([Sex.ALL] if sex == UNKNOWN else [Sex(sex), Sex.ALL]):
            for each_band in ([AgeBand.ALL] if band is None else [band, AgeBand.ALL]):
                counts[CellKey(indicator, code, level, CUMULATIVE, each_sex, each_band)] += value
    return +counts
