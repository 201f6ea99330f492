"""The pilot scenario for reporting's indicators: the wire events registry, identity and referral publish across the
eight pilot villages, in the order they happen, with figures computed by hand (in the comments, not by code).

Per village i (0-7): A{i} female born 2014 (12-14 in 2026) registered in January and identified as a child
labourer in February; B{i} male born 2018 (5-11) registered in January, identified at risk in February; C{i}
female born 2010 (15-17) registered in February, no case. Village 0 registers D0 in March, identity merges its
person into A0's and later undoes the merge; village 1 registers E1 in March, already linked to A1's person.
A0-A3 (Jember) are visited in March (working), June and September (not working) and closed as withdrawn; A4-A7
are visited in March and October, working, and stay open. B0, B2, B4, B6 close as protected in April, B2 reopens
in May. C5 (at risk) moves away in March; C6 (child labourer) ages out in October. Every A is referred in March
to the district's provider: accepted in 0, 2, 4, 6 (after 2, 4, 10, 6 days), served in those four, completed in
0, 2, 6 (after 30, 60, 59 days); declined in 1 (then re-referred to another provider: overdue, expired) and 5;
overdue then expired in 3 and 7. Providers: PR-JEM (Jember, recommended, MoU in force), PR-JEM2 (Jember, may be
recommended, MoU ended 2025), PR-LTM (Lombok Timur, recommended, PKS in force), PR-LUT (Lombok Utara, not
recommended), PR-X (Lombok Utara, recommended, MoU, offboarded in June).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiokafka import AIOKafkaProducer

from simpul_contracts import CloudEvent, Event
from simpul_contracts.events import (
    CaseStatusChangedV1,
    ChildClassifiedV1,
    ChildRegisteredV1,
    ChildUpdatedV1,
    MonitoringVisitRecordedV1,
    PersonsMergedV1,
    PersonUnmergedV1,
)
from simpul_contracts.events.common import Sex
from simpul_contracts.events.referral.providers import (
    AgreementKind,
    ProviderAgreementChangedV1,
    ProviderOffboardedV1,
    ProviderRegisteredV1,
    ProviderType,
    ProviderVettedV1,
    VettingRecommendation,
)
from simpul_contracts.events.referral.referrals import (
    DeadlineStep,
    DeclineReason,
    ReferralAcceptedV1,
    ReferralCompletedV1,
    ReferralDeclinedV1,
    ReferralExpiredV1,
    ReferralIssuedV1,
    ReferralOverdueV1,
    ReferralServiceRecordedV1,
)
from simpul_contracts.events.registry import (
    CaseStatus,
    Classification,
    ClassificationReason,
    ClosureReason,
    SchoolStatus,
)

VILLAGES = ("35.09.11.2007", "35.09.08.2005", "35.09.27.2002", "35.09.27.2003", "52.03.20.2006", "52.03.19.2006",
            "52.08.02.2003", "52.08.02.2006")
PROVIDER_OF = {"35.09": "PR-JEM", "52.03": "PR-LTM", "52.08": "PR-LUT"}
AS_OF = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
SCHOOL = "child.school_re_entry"
CL, AR = Classification.CHILD_LABOURER, Classification.AT_RISK
Sent = tuple[Event, CloudEvent]

# Hand-computed figures: (indicator, region, sex, age band, period) -> count. Cells not listed hold 0 or are absent.
AFTER_MERGE = {
    ("registered", "35.09.11.2007", "all", "all", "cumulative"): 3,  # A0, B0, C0; D0 is A0's person
    ("registered", "ID", "all", "all", "cumulative"): 24,
    ("registered", "ID", "all", "all", "202603"): 0,  # D0 (A0) and E1 (A1) were registered in January
}
FINAL = {
    ("registered", "ID", "all", "all", "cumulative"): 25,  # 3 x 8 + D0 apart again
    ("registered", "35.09.11.2007", "all", "all", "cumulative"): 4,
    ("registered", "35.09.08.2005", "all", "all", "cumulative"): 3,  # E1 is A1's person
    ("registered", "35.09", "all", "all", "cumulative"): 13,
    ("registered", "52", "all", "all", "cumulative"): 12,
    ("registered", "ID", "female", "all", "cumulative"): 17,  # 8 A + 8 C + D0
    ("registered", "ID", "male", "all", "cumulative"): 8,
    ("registered", "ID", "all", "12-14", "cumulative"): 9,
    ("registered", "ID", "all", "5-11", "cumulative"): 8,
    ("registered", "ID", "all", "15-17", "cumulative"): 8,
    ("registered", "ID", "all", "all", "202601"): 16,
    ("registered", "ID", "all", "all", "202602"): 8,
    ("registered", "ID", "all", "all", "202603"): 1,  # D0
    ("identified_child_labourers", "ID", "all", "all", "cumulative"): 9,  # 8 A + C6
    ("identified_at_risk", "ID", "all", "all", "cumulative"): 9,  # 8 B + C5
    ("identified", "ID", "all", "all", "cumulative"): 18,
    ("withdrawn", "ID", "all", "all", "cumulative"): 4,  # A0-A3
    ("withdrawn", "35.09", "female", "12-14", "cumulative"): 4,
    ("withdrawn", "ID", "all", "all", "202609"): 4,
    ("withdrawn", "52", "all", "all", "cumulative"): 0,
    ("protected", "ID", "all", "all", "cumulative"): 3,  # B0, B4, B6 (B2 reopened)
    ("protected", "35.09.27.2002", "all", "all", "cumulative"): 0,
    ("protected", "52.03", "male", "5-11", "cumulative"): 1,
    ("moved", "ID", "all", "all", "cumulative"): 1,
    ("aged_out", "ID", "all", "all", "cumulative"): 1,
    ("identified_with_service", "ID", "all", "all", "cumulative"): 4,  # A0, A2, A4, A6
    ("followed_up_after_service", "ID", "all", "all", "cumulative"): 4,
    ("no_longer_in_child_labour", "ID", "all", "all", "cumulative"): 2,  # A0, A2
    ("open_cases", "ID", "all", "all", "cumulative"): 9,  # A4-A7, B1, B2, B3, B5, B7
    ("open_cases_visited_90_days", "ID", "all", "all", "cumulative"): 4,  # A4-A7 in October
    ("referrals_issued", "ID", "all", "all", "cumulative"): 9,
    ("referrals_accepted", "ID", "all", "all", "cumulative"): 4,
    ("referrals_declined", "ID", "all", "all", "cumulative"): 2,
    ("referrals_completed", "ID", "all", "all", "cumulative"): 3,
    ("referrals_expired", "ID", "all", "all", "cumulative"): 3,
    ("referrals_overdue", "ID", "all", "all", "cumulative"): 3,
    ("referrals_issued", "35.09", "all", "all", "cumulative"): 5,
    ("referrals_completed", "52.08", "all", "all", "cumulative"): 1,
    ("referrals_completed", "ID", "all", "all", "202605"): 1,  # R2
    ("providers_vetted", "ID", "all", "all", "cumulative"): 3,  # PR-JEM, PR-JEM2, PR-LTM
    ("providers_with_agreement_in_force", "ID", "all", "all", "cumulative"): 2,  # PR-JEM, PR-LTM
    ("providers_with_agreement_in_force", "35.09", "all", "all", "cumulative"): 1,
}
TIMELINESS = {"accepted": (4, 5.0, 10.0), "completed": (3, 59.0, 60.0)}  # referrals, median, p90 (days)


def on(month: int, day: int, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, 9, tzinfo=dt.UTC)


class Script:
    """Events in the order they happen, each with its envelope made once (so a replay can resend the same)."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    def add(self, event: Event) -> None:
        self.sent.append((event, event.envelope()))


def _state(child: str, person: str, village: str, sex: Sex, born: int, **case: Any) -> dict[str, Any]:
    return {"child_id": child, "person_id": person, "sex": sex, "birth_year": born, "village_code": village,
            "case_id": None, "classification": None, "status": None} | case


def _case(child: str, classification: Classification, status: CaseStatus) -> dict[str, Any]:
    return {"case_id": f"K-{child}", "classification": classification, "status": status}


class Child:
    """One child of the scenario and the registry events about it."""

    def __init__(self, script: Script, child: str, village: str, sex: Sex, born: int) -> None:
        self.script, self.id, self.village, self.sex, self.born = script, child, village, sex, born
        self.person, self.classification = f"P-{child}", CL

    def state(self, status: CaseStatus | None = None) -> dict[str, Any]:
        case = _case(self.id, self.classification, status) if status else {}
        return _state(self.id, self.person, self.village, self.sex, self.born, **case)

    def register(self, when: dt.datetime) -> None:
        self.script.add(ChildRegisteredV1(**self.state(), registered_at=when))

    def relink(self, person: str, when: dt.datetime) -> None:
        self.person = person
        self.script.add(ChildUpdatedV1(**self.state(), updated_at=when))

    def classify(self, classification: Classification, when: dt.datetime) -> None:
        self.classification = classification
        self.script.add(ChildClassifiedV1(**self.state(CaseStatus.IDENTIFIED), previous=None,
                                          reason=ClassificationReason.IDENTIFIED, classified_at=when,
                                          classified_by="kader"))

    def visit(self, day: dt.datetime, working: bool) -> None:
        self.script.add(MonitoringVisitRecordedV1(
            **self.state(CaseStatus.MONITORING), visit_id=f"VIS-{self.id}-{day:%m%d}", visited_on=day.date(),
            visited_by="kader", child_working=working, sectors=("tobacco",) if working else (),
            school_status=SchoolStatus.ENROLLED))

    def close(self, reason: ClosureReason, when: dt.datetime) -> None:
        self.script.add(CaseStatusChangedV1(**self.state(CaseStatus.CLOSED), previous=CaseStatus.MONITORING,
                                            closure_reason=reason, changed_at=when, changed_by="officer"))

    def reopen(self, when: dt.datetime) -> None:
        self.script.add(CaseStatusChangedV1(**self.state(CaseStatus.MONITORING), previous=CaseStatus.CLOSED,
                                            closure_reason=None, changed_at=when, changed_by="officer"))


def _referral(script: Script, referral: str, provider: str, child: Child, when: dt.datetime) -> dict[str, Any]:
    common = {"referral_id": referral, "provider_id": provider, "by": "officer"}
    script.add(ReferralIssuedV1(**common, at=when, child_id=child.id, person_id=child.person,
                                district=child.village[:5], service_types=(SCHOOL,), consent_overridden=False,
                                previous_referral_id=None))
    return common


def _providers(script: Script) -> None:
    def common(provider: str, when: dt.datetime) -> dict[str, Any]:
        return {"provider_id": provider, "recorded_by": "officer", "recorded_at": when}

    year_2026, year_2025 = (dt.date(2026, 1, 1), dt.date(2026, 12, 31)), (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    for provider, district, recommendation, period in (
            ("PR-JEM", "35.09", VettingRecommendation.RECOMMENDED, year_2026),
            ("PR-JEM2", "35.09", VettingRecommendation.MAY_BE_RECOMMENDED, year_2025),
            ("PR-LTM", "52.03", VettingRecommendation.RECOMMENDED, (dt.date(2026, 2, 1), dt.date(2027, 1, 31))),
            ("PR-LUT", "52.08", VettingRecommendation.NOT_RECOMMENDED, None),
            ("PR-X", "52.08", VettingRecommendation.RECOMMENDED, year_2026)):
        script.add(ProviderRegisteredV1(**common(provider, on(1, 2)), organisation=f"Lembaga {provider}",
                                        provider_type=ProviderType.NGO, districts=[district]))
        script.add(ProviderVettedV1(**common(provider, on(1, 3)), vetting_id=f"VET-{provider}", total=9,
                                    recommendation=recommendation))
        if period:
            script.add(ProviderAgreementChangedV1(**common(provider, on(1, 4)), agreement_id=f"AG-{provider}",
                                                  kind=AgreementKind.MOU, starts_on=period[0], ends_on=period[1],
                                                  service_types=[SCHOOL], districts=[district]))
    script.add(ProviderOffboardedV1(**common("PR-X", on(6, 1))))


def _referrals(script: Script, a: list[Child]) -> None:
    outcomes = {0: (2, on(3, 20), 30), 2: (4, on(4, 15), 60), 4: (10, on(4, 1), None), 6: (6, on(3, 25), 59)}
    for i, child in enumerate(a):
        issued = on(3, 2)
        common = _referral(script, f"R{i}", PROVIDER_OF[child.village[:5]], child, issued)
        if i in outcomes:
            accepted_after, served, completed_after = outcomes[i]
            script.add(ReferralAcceptedV1(**common, at=issued + dt.timedelta(days=accepted_after)))
            script.add(ReferralServiceRecordedV1(**common, at=served, service_type=SCHOOL, delivered_on=served.date()))
            if completed_after:
                script.add(ReferralCompletedV1(**common, at=issued + dt.timedelta(days=completed_after)))
        elif i in (1, 5):
            reason = DeclineReason.NO_CAPACITY if i == 1 else DeclineReason.FAMILY_REFUSED
            script.add(ReferralDeclinedV1(**common, at=issued + dt.timedelta(days=1 if i == 1 else 2), reason=reason))
        if i in (1, 3, 7):
            referral, start = (f"R{i}b", on(3, 5)) if i == 1 else (f"R{i}", issued)
            common = _referral(script, referral, "PR-JEM2", child, start) if i == 1 else common
            due = start + dt.timedelta(days=3)
            script.add(ReferralOverdueV1(**common, at=due, deadline_id=f"{referral}/acknowledge",
                                         step=DeadlineStep.ACKNOWLEDGE, due_at=due))
            script.add(ReferralExpiredV1(**common, at=start + dt.timedelta(days=14)))


def pilot() -> tuple[list[Sent], list[Sent]]:
    """The scenario in two phases: up to the merge (checked against AFTER_MERGE), then the rest (FINAL)."""
    script = Script()
    _providers(script)
    a = [Child(script, f"A{i}", v, Sex.FEMALE, 2014) for i, v in enumerate(VILLAGES)]
    b = [Child(script, f"B{i}", v, Sex.MALE, 2018) for i, v in enumerate(VILLAGES)]
    c = [Child(script, f"C{i}", v, Sex.FEMALE, 2010) for i, v in enumerate(VILLAGES)]
    for child in a + b:
        child.register(on(1, 10))
    for child in c:
        child.register(on(2, 10))
    for child in a:
        child.classify(CL, on(2, 5))
    for child in b:
        child.classify(AR, on(2, 5))
    c[5].classify(AR, on(2, 15))
    c[6].classify(CL, on(2, 15))
    duplicate = Child(script, "D0", VILLAGES[0], Sex.FEMALE, 2014)
    twice = Child(script, "E1", VILLAGES[1], Sex.FEMALE, 2014)
    duplicate.register(on(3, 1))
    twice.person = a[1].person
    twice.register(on(3, 1))
    script.add(PersonsMergedV1(merge_id="M1", surviving_person_id=a[0].person, retired_person_id=duplicate.person,
                               moved_records=["simpul-registry:D0"], merged_by="reviewer", merged_at=on(3, 5)))
    duplicate.relink(a[0].person, on(3, 5))
    first = list(script.sent)
    script.sent.clear()
    script.add(PersonUnmergedV1(merge_id="M1", person_id="P-D0", unmerged_from_person_id=a[0].person,
                                moved_records=["simpul-registry:D0"], unmerged_by="reviewer", unmerged_at=on(4, 1)))
    duplicate.relink("P-D0", on(4, 1))
    _referrals(script, a)
    _visits_and_closures(a, b, c)
    return first, list(script.sent)


def _visits_and_closures(a: list[Child], b: list[Child], c: list[Child]) -> None:
    c[5].close(ClosureReason.MOVED, on(3, 15))
    for child in a:
        child.visit(on(3, 1), working=True)
    for i in (0, 2, 4, 6):
        b[i].close(ClosureReason.PROTECTED, on(4, 1))
    b[2].reopen(on(5, 1))
    for child in a[:4]:
        child.visit(on(6, 1), working=False)
        child.visit(on(9, 1), working=False)
        child.close(ClosureReason.WITHDRAWN, on(9, 2))
    c[6].close(ClosureReason.AGED_OUT, on(10, 1))
    for child in a[4:]:
        child.visit(on(10, 15), working=True)


async def publish_all(bootstrap: str, namespace: str, sent: list[Sent]) -> None:
    """Produce the events with their envelopes, in the given order, on one producer."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for event, envelope in sent:
            await producer.send(namespace + event.topic, event.to_bytes(), key=event.key.encode(),
                                headers=envelope.to_headers())
        await producer.flush()
    finally:
        await producer.stop()
