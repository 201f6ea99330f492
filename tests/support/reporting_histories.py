"""Random histories of reporting's facts, and the indicators all of them give at once (the reference the counters
are tested against): children linked, relinked, merged and unmerged, classified, closed, reopened, visited and
served; referrals issued and taken through their steps."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter

from reporting.domain.cells import CellKey
from reporting.domain.facts import ChildEvent, ChildEventKind, Merge, ReferralEvent, ReferralStep
from reporting.domain.indicators import children_counts
from reporting.domain.referral_indicators import referral_counts

VILLAGES = ("35.09.11.2007", "35.09.11.2008", "35.09.08.2005", "52.08.02.2006")
AS_OF = dt.date(2026, 9, 15)
Fact = ChildEvent | Merge | ReferralEvent


def moment(rng: random.Random) -> dt.datetime:
    return dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=rng.randrange(300), hours=rng.randrange(24))


def child_history(rng: random.Random, number: int, child: str, persons: list[str]) -> list[ChildEvent]:
    """A child record's events: registered, then classified, moved, closed, reopened and visited at random."""
    case, person = f"k{child}", rng.choice([*persons, None])
    village, sex, year = rng.choice(VILLAGES), rng.choice(["female", "male", "unknown"]), rng.choice([2009, 2013,
                                                                                                   2016, 2019, None])
    base = ChildEvent(f"{child}-0", ChildEventKind.REGISTERED, child, person, sex, year, village, None, None, None,
                      moment(rng), moment(rng))
    events, status = [base], None
    for index in range(1, rng.randrange(2, 9)):
        kind = rng.choice(list(ChildEventKind))
        at, fields = moment(rng), dict[str, object]()
        if rng.random() < 0.3:
            fields["person_id"] = rng.choice([*persons, None])
        if rng.random() < 0.1:
            fields["village_code"] = rng.choice(VILLAGES)
        if kind is ChildEventKind.CLASSIFIED:
            fields |= {"case_id": case, "classification": rng.choice(["child_labourer", "at_risk", "not_at_risk"]),
                       "status": "open"}
        elif kind is ChildEventKind.STATUS_CHANGED:
            closing = rng.random() < 0.6
            fields |= {"case_id": case, "status": "closed" if closing else "monitoring",
                       "previous_status": "monitoring" if closing else "closed",
                       "closure_reason": rng.choice(["withdrawn", "protected", "aged_out", "moved", None])
                       if closing else None}
        elif kind is ChildEventKind.VISITED:
            at = dt.datetime.combine(AS_OF - dt.timedelta(days=rng.randrange(200)), dt.time(), dt.UTC)
            fields |= {"case_id": case, "child_working": rng.choice([True, False, None]), "status": "monitoring"}
        status = fields.get("status", status)
        previous = events[-1]
        fields = {"previous_status": None, "closure_reason": None, "child_working": None} | fields
        events.append(dataclasses.replace(previous, event_id=f"{child}-{index}", kind=kind, occurred_at=at,
                                          stamp=moment(rng), **fields))
    return events


def history(seed: int) -> list[Fact]:
    """Every fact of a random small world."""
    rng = random.Random(seed)
    persons = [f"p{n}" for n in range(rng.randrange(3, 8))]
    facts: list[Fact] = []
    children = [f"c{n}" for n in range(rng.randrange(4, 12))]
    for number, child in enumerate(children):
        facts += child_history(rng, number, child, persons)
    for n in range(rng.randrange(0, 5)):
        retired, surviving = rng.sample(persons, 2)
        merge = Merge(f"m{n}", retired, surviving, undone=False)
        facts.append(merge)
        if rng.random() < 0.4:
            facts.append(dataclasses.replace(merge, undone=True))
    for n in range(rng.randrange(0, 6)):
        referral, issued = f"r{n}", moment(rng)
        facts.append(ReferralEvent(f"{referral}-0", referral, rng.choice(["pa", "pb"]), ReferralStep.ISSUED, issued,
                                   child_id=rng.choice(children), district=rng.choice(["35.09", "52.08"]),
                                   service_types=tuple(rng.sample(["child.health", "child.school"], 2))))
        for index, step in enumerate(rng.sample(list(ReferralStep), 4), start=1):
            day = issued + dt.timedelta(days=rng.randrange(-3, 40), minutes=rng.randrange(600))
            facts.append(ReferralEvent(f"{referral}-{index}", referral, "pa", step, day, delivered_on=day.date()
                                       if step is ReferralStep.SERVICE_RECORDED else None))
    return facts


def expected(facts: list[Fact]) -> Counter[CellKey]:
    """The indicators as the facts give them, all at once."""
    children = sorted((f for f in facts if isinstance(f, ChildEvent)), key=lambda f: f.event_id)
    merges: dict[str, Merge] = {}
    for fact in facts:
        if isinstance(fact, Merge):
            merges[fact.merge_id] = fact if fact.undone or fact.merge_id not in merges else merges[fact.merge_id]
    referrals = sorted((f for f in facts if isinstance(f, ReferralEvent)), key=lambda f: f.event_id)
    counts = children_counts(children, [merges[m] for m in sorted(merges)], referrals, AS_OF)
    counts.update(referral_counts(referrals))
    return +counts
