"""The events of bench/reporting.py: a seeded world of children, not tuned to the pilot scenario.

Villages are drawn across provinces (about one per 150 children, in kecamatan of 2-9 villages and kabupaten of 1-5
kecamatan), birth years 2004-2022 (some unknown, some outside 5-17), sexes with a few unknown. Each child is
registered; identity has linked most records (some stay unlinked, 3% are a second record of another child's person,
1.5% a duplicate person merged into the first, a quarter of those merges undone later); about a third are
classified (child labourer or at risk), visited 0-4 times (working or not), some closed (withdrawn, protected,
aged out, moved), a few of those reopened; a fifth of the identified are referred to one of the district's
providers, with acceptances, declines, services, completions, overdue steps and expiries. Providers register, are
vetted and sign agreements. Events of one child keep their order (registry publishes them keyed by child id);
the topics interleave as the consumers read them, and the publication times jitter within a day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from aiokafka import ConsumerRecord

from simpul_contracts import Event
from simpul_contracts.events import (
    CaseStatusChangedV1,
    ChildClassifiedV1,
    ChildRegisteredV1,
    MonitoringVisitRecordedV1,
    PersonsMergedV1,
    PersonUnmergedV1,
)
from simpul_contracts.events.common import Sex
from simpul_contracts.events.referral.providers import (
    AgreementKind,
    ProviderAgreementChangedV1,
    ProviderRegisteredV1,
    ProviderType,
    ProviderVettedV1,
    VettingRecommendation,
)
from simpul_contracts.events.referral.referrals import (
    DeclineReason,
    ReferralAcceptedV1,
    ReferralCompletedV1,
    ReferralDeclinedV1,
    ReferralExpiredV1,
    ReferralIssuedV1,
    ReferralServiceRecordedV1,
)
from simpul_contracts.events.registry import (
    CaseStatus,
    Classification,
    ClassificationReason,
    ClosureReason,
    SchoolStatus,
)

START = dt.datetime(2025, 1, 1, 8, tzinfo=dt.UTC)
DAYS = 700
SERVICES = ("child.school_re_entry", "child.health", "household.livelihood")
PROVINCES = ("11", "32", "33", "35", "52", "53", "73", "94")
Timed = tuple[dt.datetime, Event]


def villages(rng: random.Random, count: int) -> list[str]:
    """`count` village codes, grouped in kecamatan and kabupaten."""
    codes: list[str] = []
    while len(codes) < count:
        province, district = rng.choice(PROVINCES), rng.randrange(1, 80)
        for kecamatan in range(1, rng.randrange(2, 7)):
            codes += [f"{province}.{district:02d}.{kecamatan:02d}.{2000 + v}" for v in range(1, rng.randrange(3, 11))]
    return sorted(set(codes))[:count] if len(set(codes)) >= count else codes[:count]


class World:
    """The generator's state: the events each topic carries, with their publication times."""

    def __init__(self, seed: int, children: int) -> None:
        self.rng = random.Random(seed)
        self.villages = villages(self.rng, max(8, children // 150))
        self.topics: dict[str, list[Timed]] = {}
        self.providers: dict[str, list[str]] = {}
        self.merges = 0

    def add(self, when: dt.datetime, event: Event) -> None:
        self.topics.setdefault(event.topic, []).append((when, event))

    def provider(self, district: str) -> str:
        """One of the district's providers (registered, vetted and under agreement on first use)."""
        known = self.providers.setdefault(district, [])
        if not known or (len(known) < 3 and self.rng.random() < 0.01):
            provider = f"PR-{district.replace('.', '')}-{len(known)}"
            known.append(provider)
            common = {"provider_id": provider, "recorded_by": "officer"}
            when = START + dt.timedelta(days=self.rng.randrange(60))
            self.add(when, ProviderRegisteredV1(**common, recorded_at=when, organisation=f"Lembaga {provider}",
                                                provider_type=ProviderType.NGO, districts=[district]))
            self.add(when, ProviderVettedV1(**common, recorded_at=when + dt.timedelta(days=1),
                                            vetting_id=f"V-{provider}", total=9,
                                            recommendation=self.rng.choice(list(VettingRecommendation))))
            starts = (when + dt.timedelta(days=2)).date()
            ends = starts + dt.timedelta(days=self.rng.randrange(200, 900))
            self.add(when, ProviderAgreementChangedV1(
                **common, recorded_at=when + dt.timedelta(days=2), agreement_id=f"AG-{provider}",
                kind=AgreementKind.MOU, starts_on=starts, ends_on=ends,
                service_types=list(SERVICES[:2]), districts=[district]))
        return self.rng.choice(known)


def child(world: World, number: int) -> None:
    """One child's events."""
    rng = world.rng
    child_id, village = f"C{number:07d}", rng.choice(world.villages)
    person: str | None = None if rng.random() < 0.05 else f"P{number:07d}"
    if person and number > 10 and rng.random() < 0.03:
        person = f"P{rng.randrange(number):07d}"  # a second record of a person identity already knows
    sex = Sex.UNKNOWN if rng.random() < 0.02 else rng.choice([Sex.FEMALE, Sex.MALE])
    born = None if rng.random() < 0.03 else rng.randrange(2004, 2023)
    when = START + dt.timedelta(days=rng.randrange(DAYS), minutes=rng.randrange(600))
    state: dict[str, Any] = {"child_id": child_id, "person_id": person, "sex": sex, "birth_year": born,
                             "village_code": village, "case_id": None, "classification": None, "status": None}
    world.add(when, ChildRegisteredV1(**state, registered_at=when))
    if person and person == f"P{number:07d}" and number > 10 and rng.random() < 0.015:
        merge(world, person, f"P{rng.randrange(number):07d}", when)
    if rng.random() < 0.33:
        case(world, state, when)


def merge(world: World, retired: str, surviving: str, when: dt.datetime) -> None:
    """A merge of two persons, a quarter of them undone later."""
    world.merges += 1
    merge_id, at = f"M{world.merges}", when + dt.timedelta(days=world.rng.randrange(1, 60))
    world.add(at, PersonsMergedV1(merge_id=merge_id, surviving_person_id=surviving, retired_person_id=retired,
                                  moved_records=[], merged_by="reviewer", merged_at=at))
    if world.rng.random() < 0.25:
        undone = at + dt.timedelta(days=world.rng.randrange(1, 90))
        world.add(undone, PersonUnmergedV1(merge_id=merge_id, person_id=retired, unmerged_from_person_id=surviving,
                                           moved_records=[], unmerged_by="reviewer", unmerged_at=undone))


def case(world: World, state: dict[str, Any], registered: dt.datetime) -> None:
    """Classification, visits, a closure (perhaps reopened) and perhaps a referral."""
    rng = world.rng
    kind = rng.choice([Classification.CHILD_LABOURER, Classification.AT_RISK])
    state |= {"case_id": f"K{state['child_id']}", "classification": kind, "status": CaseStatus.IDENTIFIED}
    at = registered + dt.timedelta(days=rng.randrange(1, 40))
    world.add(at, ChildClassifiedV1(**state, previous=None, reason=ClassificationReason.IDENTIFIED, classified_at=at,
                                    classified_by="kader"))
    if rng.random() < 0.2:
        at = referral(world, state, at)
    state["status"] = CaseStatus.MONITORING
    for visit in range(rng.randrange(5)):
        at += dt.timedelta(days=rng.randrange(20, 100))
        working = rng.random() < 0.4
        world.add(at, MonitoringVisitRecordedV1(**state, visit_id=f"VIS-{state['child_id']}-{visit}",
                                                visited_on=at.date(), visited_by="kader", child_working=working,
                                                sectors=("tobacco",) if working else (),
                                                school_status=rng.choice(list(SchoolStatus))))
    if rng.random() < 0.4:
        at += dt.timedelta(days=rng.randrange(1, 30))
        reason = rng.choice(list(ClosureReason))
        world.add(at, CaseStatusChangedV1(**state | {"status": CaseStatus.CLOSED}, previous=CaseStatus.MONITORING,
                                          closure_reason=reason, changed_at=at, changed_by="officer"))
        if rng.random() < 0.1:
            at += dt.timedelta(days=rng.randrange(1, 60))
            world.add(at, CaseStatusChangedV1(**state, previous=CaseStatus.CLOSED, closure_reason=None, changed_at=at,
                                              changed_by="officer"))


def referral(world: World, state: dict[str, Any], at: dt.datetime) -> dt.datetime:
    """A referral and the steps it reaches; the time of its last step."""
    rng, district = world.rng, state["village_code"][:5]
    common = {"referral_id": f"R{state['child_id']}", "provider_id": world.provider(district), "by": "officer"}
    at += dt.timedelta(hours=rng.randrange(1, 200))
    person = state["person_id"] or "P-unlinked"
    world.add(at, ReferralIssuedV1(**common, at=at, child_id=state["child_id"], person_id=person,
                                   district=district, service_types=tuple(rng.sample(SERVICES, rng.randrange(1, 3))),
                                   consent_overridden=False, previous_referral_id=None))
    outcome = rng.random()
    if outcome < 0.15:
        at += dt.timedelta(hours=rng.randrange(1, 100))
        world.add(at, ReferralDeclinedV1(**common, at=at, reason=rng.choice(list(DeclineReason))))
    elif outcome < 0.25:
        at += dt.timedelta(days=14)
        world.add(at, ReferralExpiredV1(**common, at=at))
    else:
        at += dt.timedelta(hours=rng.randrange(1, 300))
        world.add(at, ReferralAcceptedV1(**common, at=at))
        at += dt.timedelta(days=rng.randrange(1, 30))
        world.add(at, ReferralServiceRecordedV1(**common, at=at, service_type=SERVICES[0], delivered_on=at.date()))
        if rng.random() < 0.7:
            at += dt.timedelta(days=rng.randrange(1, 60))
            world.add(at, ReferralCompletedV1(**common, at=at))
    return at


def generate(seed: int, children: int) -> dict[str, list[Timed]]:
    """Every topic's events, each in its publication order (children's histories interleaved by time)."""
    world = World(seed, children)
    for number in range(children):
        child(world, number)
    for events in world.topics.values():
        events.sort(key=lambda timed: timed[0])
    return world.topics


def records(topic: str, events: list[Timed], rng: random.Random, namespace: str = "") -> Iterator[
        ConsumerRecord[bytes, bytes]]:
    """The topic's Kafka records as the consumer polls them: CloudEvents headers, publication time jittered."""
    for offset, (when, event) in enumerate(events):
        envelope = dataclasses.replace(event.envelope(), time=when + dt.timedelta(seconds=rng.randrange(86_400)))
        value, key = event.to_bytes(), event.key.encode()
        yield ConsumerRecord(namespace + topic, 0, offset, int(when.timestamp() * 1000), 0, key, value, None,
                             len(key), len(value), envelope.to_headers())
