"""The children's indicators, computed from the kept facts (pure Python).

Counting rules (also in the README):
- A child is counted as a PERSON: the person id the child's latest event carries, followed through identity's merges
  still in force (a merge undone no longer applies), or the child record itself while identity has not linked it.
  A person counts once per indicator, in the cell (village, sex, age band) and month of their first qualifying
  event, and in the cumulative period: cells add up along the region hierarchy and the margins, months add up to
  the cumulative count.
- registered: a registration. identified child labourers / at risk: a classification as one (when the case opened
  or a reclassification). identified: either.
- withdrawn / protected / aged out / moved: a closure with that reason, unless the case was reopened after it. The
  registry closes as withdrawn only when the withdrawal rule holds (N visits without child labour, D days apart),
  so reporting counts its closures as they come.
- identified with service: an identified person with at least one service recorded on a referral of one of their
  child records (counted in the month of the first service).
- followed up after service / no longer in child labour: a child labourer served and visited on or after the first
  service; no longer in child labour when the latest such visit found the child not working.
- open cases / open cases visited in 90 days: persons with an open case now (the `as_of` day), and those with a
  visit on one of their open cases in the 90 days up to it (period 'cumulative' only: a snapshot).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from reporting.domain.cells import CUMULATIVE, AgeBand, Cell, CellKey, Sex
from reporting.domain.facts import ChildEvent, ChildEventKind, Merge, ReferralEvent, ReferralStep, latest
from reporting.domain.regions import age_band, ancestry, month, sex_of

COVERAGE_DAYS = 90


class Indicator(enum.StrEnum):
    """The indicator codes of cells (counts of persons, referrals or providers)."""

    REGISTERED = "registered"
    IDENTIFIED = "identified"
    IDENTIFIED_CHILD_LABOURERS = "identified_child_labourers"
    IDENTIFIED_AT_RISK = "identified_at_risk"
    WITHDRAWN = "withdrawn"
    PROTECTED = "protected"
    AGED_OUT = "aged_out"
    MOVED = "moved"
    IDENTIFIED_WITH_SERVICE = "identified_with_service"
    FOLLOWED_UP_AFTER_SERVICE = "followed_up_after_service"
    NO_LONGER_IN_CHILD_LABOUR = "no_longer_in_child_labour"
    OPEN_CASES = "open_cases"
    OPEN_CASES_VISITED_90_DAYS = "open_cases_visited_90_days"
    REFERRALS_ISSUED = "referrals_issued"
    REFERRALS_ACCEPTED = "referrals_accepted"
    REFERRALS_DECLINED = "referrals_declined"
    REFERRALS_COMPLETED = "referrals_completed"
    REFERRALS_EXPIRED = "referrals_expired"
    REFERRALS_OVERDUE = "referrals_overdue"
    REFERRALS_REVOKED = "referrals_revoked"
    PROVIDERS_VETTED = "providers_vetted"
    PROVIDERS_WITH_AGREEMENT = "providers_with_agreement_in_force"


CLOSURES = {"withdrawn": Indicator.WITHDRAWN, "protected": Indicator.PROTECTED, "aged_out": Indicator.AGED_OUT,
            "moved": Indicator.MOVED}
CLASSIFIED_AS = {"child_labourer": Indicator.IDENTIFIED_CHILD_LABOURERS, "at_risk": Indicator.IDENTIFIED_AT_RISK}


@dataclass(frozen=True)
class Hit:
    """A person qualifies for an indicator at a moment, in a village, with a sex and birth year."""

    indicator: Indicator
    person: str
    when: dt.datetime
    tie: str
    village_code: str
    sex: str
    birth_year: int | None
    monthly: bool = True


class Persons:
    """Which person each child record is, through the merges in force."""

    def __init__(self, states: Mapping[str, ChildEvent], merges: Iterable[Merge]) -> None:
        self.states = states
        self.alias = {m.retired_person_id: m.surviving_person_id for m in merges if not m.undone}

    def of(self, child_id: str) -> str:
        """The child's person (its own record while unlinked)."""
        state = self.states.get(child_id)
        person = state.person_id if state is not None and state.person_id else f"child:{child_id}"
        seen = {person}
        while person in self.alias and self.alias[person] not in seen:
            person = self.alias[person]
            seen.add(person)
        return person


def child_states(events: Iterable[ChildEvent]) -> dict[str, ChildEvent]:
    """Each child's latest event (its current state)."""
    by_child: dict[str, list[ChildEvent]] = defaultdict(list)
    for event in events:
        by_child[event.child_id].append(event)
    return {child: latest(history) for child, history in by_child.items()}


def _hit(indicator: Indicator, person: str, event: ChildEvent, when: dt.datetime | None = None,
         monthly: bool = True) -> Hit:
    return Hit(indicator, person, when or event.occurred_at, event.event_id, event.village_code, event.sex,
               event.birth_year, monthly)


def _reopened_after(events: Sequence[ChildEvent]) -> dict[str, dt.datetime]:
    """The last reopening of each case."""
    reopened: dict[str, dt.datetime] = {}
    for event in events:
        if event.kind is ChildEventKind.STATUS_CHANGED and event.previous_status == "closed" and event.case_id:
            reopened[event.case_id] = max(reopened.get(event.case_id, event.occurred_at), event.occurred_at)
    return reopened


def event_hits(events: Sequence[ChildEvent], persons: Persons) -> Iterator[Hit]:
    """Registrations, identifications and closures (not reopened since)."""
    reopened = _reopened_after(events)
    for event in events:
        person = persons.of(event.child_id)
        if event.kind is ChildEventKind.REGISTERED:
            yield _hit(Indicator.REGISTERED, person, event)
        elif event.kind is ChildEventKind.CLASSIFIED and event.classification in CLASSIFIED_AS:
            yield _hit(CLASSIFIED_AS[event.classification], person, event)
            yield _hit(Indicator.IDENTIFIED, person, event)
        elif event.kind is ChildEventKind.STATUS_CHANGED and event.status == "closed" and \
                event.closure_reason in CLOSURES and not (event.case_id and event.occurred_at < reopened.get(
                    event.case_id, event.occurred_at)):
            yield _hit(CLOSURES[event.closure_reason], person, event)


def _first(hits: Iterable[Hit]) -> dict[str, Hit]:
    first: dict[str, Hit] = {}
    for hit in hits:
        if hit.person not in first or (hit.when, hit.tie) < (first[hit.person].when, first[hit.person].tie):
            first[hit.person] = hit
    return first


def first_services(referrals: Sequence[ReferralEvent], persons: Persons) -> dict[str, dt.datetime]:
    """The day each person was first served, on a referral of one of their child records."""
    child_of = {r.referral_id: r.child_id for r in referrals if r.step is ReferralStep.ISSUED and r.child_id}
    first: dict[str, dt.datetime] = {}
    for r in referrals:
        if r.step is ReferralStep.SERVICE_RECORDED and r.referral_id in child_of and r.delivered_on:
            person, day = persons.of(child_of[r.referral_id]), _midnight(r.delivered_on)
            first[person] = min(first.get(person, day), day)
    return first


def service_hits(identified: Iterable[Hit], events: Sequence[ChildEvent], referrals: Sequence[ReferralEvent],
                 persons: Persons) -> Iterator[Hit]:
    """Identified persons served, child labourers followed up after service and no longer working."""
    first_service = first_services(referrals, persons)
    visits: dict[str, list[ChildEvent]] = defaultdict(list)
    for event in events:
        if event.kind is ChildEventKind.VISITED:
            visits[persons.of(event.child_id)].append(event)
    identified = list(identified)
    labourers = {h.person for h in identified if h.indicator is Indicator.IDENTIFIED_CHILD_LABOURERS}
    for person, hit in _first(h for h in identified if h.indicator is Indicator.IDENTIFIED).items():
        if person not in first_service:
            continue
        yield replace(hit, indicator=Indicator.IDENTIFIED_WITH_SERVICE, when=first_service[person])
        after = [v for v in visits.get(person, []) if v.occurred_at >= first_service[person]]
        if person in labourers and after:
            yield replace(hit, indicator=Indicator.FOLLOWED_UP_AFTER_SERVICE, when=min(v.occurred_at for v in after))
            last = max(after, key=lambda v: (v.occurred_at, v.stamp, v.event_id))
            if last.child_working is False:
                yield replace(hit, indicator=Indicator.NO_LONGER_IN_CHILD_LABOUR, when=last.occurred_at)


def coverage_hits(events: Sequence[ChildEvent], persons: Persons, as_of: dt.date) -> Iterator[Hit]:
    """Persons with an open case on `as_of`, and those visited on one in the 90 days up to it (snapshot)."""
    since = _midnight(as_of - dt.timedelta(days=COVERAGE_DAYS))
    until = _midnight(as_of)
    visited = {e.case_id for e in events if e.kind is ChildEventKind.VISITED and since <= e.occurred_at <= until}
    moment = _midnight(as_of)
    for child_id, state in sorted(persons.states.items()):
        if state.case_id is None or state.status in (None, "closed"):
            continue
        person = persons.of(child_id)
        yield _hit(Indicator.OPEN_CASES, person, state, moment, monthly=False)
        if state.case_id in visited:
            yield _hit(Indicator.OPEN_CASES_VISITED_90_DAYS, person, state, moment, monthly=False)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def tally(hits: Iterable[Hit]) -> Counter[CellKey]:
    """Count each person once per indicator, in the cell and month of their first hit, and cumulatively (so the
    months add up to the cumulative count), rolled up the regions and margins."""
    firsts: dict[tuple[Indicator, str], Hit] = {}
    for hit in hits:
        held = firsts.get((hit.indicator, hit.person))
        if held is None or (hit.when, hit.tie) < (held.when, held.tie):
            firsts[(hit.indicator, hit.person)] = hit
    slots: Counter[tuple[Indicator, str, str, Sex | None, AgeBand | None]] = Counter(
        (hit.indicator, month(hit.when) if hit.monthly else CUMULATIVE, hit.village_code, sex_of(hit.sex),
         age_band(hit.birth_year, hit.when.date())) for hit in firsts.values())
    counts: Counter[CellKey] = Counter()
    for (indicator, period, village, sex, band), count in slots.items():
        for each in {period, CUMULATIVE}:
            for key in keys_of(indicator, each, village, sex, band):
                counts[key] += count
    return counts


def keys_of(indicator: str, period: str, region: str, sex: Sex | None, band: AgeBand | None) -> Iterator[CellKey]:
    """Every cell one counted unit adds to: its region and those above, its sex and age band and the margins."""
    sexes = [Sex.ALL] if sex is None else [sex, Sex.ALL]
    bands = [AgeBand.ALL] if band is None else [band, AgeBand.ALL]
    for code, level in ancestry(region):
        for each_sex in sexes:
            for each_band in bands:
                yield CellKey(indicator, code, level, period, each_sex, each_band)


def children_counts(events: Sequence[ChildEvent], merges: Sequence[Merge], referrals: Sequence[ReferralEvent],
                    as_of: dt.date) -> Counter[CellKey]:
    """Every children's indicator, in every cell."""
    persons = Persons(child_states(events), merges)
    hits = list(event_hits(events, persons))
    hits += service_hits(hits, events, referrals, persons)
    hits += coverage_hits(events, persons, as_of)
    return tally(hits)


def as_cells(counts: Mapping[CellKey, int]) -> list[Cell]:
    """Counts as cells, in key order."""
    return [Cell.of(key, value) for key, value in sorted(counts.items())]
