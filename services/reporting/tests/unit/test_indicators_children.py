"""The children's indicators from registry and identity events, against the fake: persons counted once, merges and
unmergers correcting past counts, the region hierarchy, sex and age margins, closures, services and coverage."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from reporting.domain.cells import CUMULATIVE, AgeBand, Sex
from reporting.domain.indicator_commands import IndicatorCells
from reporting.entrypoints.consumers.identity_persons import person_changes
from reporting.entrypoints.consumers.referral_referrals import referral_events
from reporting.entrypoints.consumers.registry_children import child_events
from reporting.service_layer.fake import FakeReportingUnitOfWork
from reporting.service_layer.indicator_handlers import indicator_cells
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
from simpul_contracts.events.common import Sex as WireSex
from simpul_contracts.events.referral.referrals import ReferralIssuedV1, ReferralServiceRecordedV1
from simpul_contracts.events.registry import (
    CaseStatus,
    Classification,
    ClassificationReason,
    ClosureReason,
    SchoolStatus,
)
from simpul_platform.delivery import Delivery
from simpul_platform.unit_of_work import execute

KESILIR, WRINGINTELU, SELELOS = "35.09.11.2007", "35.09.08.2005", "52.08.02.2006"
AS_OF = dt.date(2026, 12, 1)
Handler = Callable[[Any, Sequence[Delivery]], Awaitable[None]]
HANDLERS: dict[str, Handler] = {"registry.child.v1": child_events, "identity.person.v1": person_changes,
                                "referral.referral.v1": referral_events}


def at(month: int, day: int = 1) -> dt.datetime:
    return dt.datetime(2026, month, day, 9, tzinfo=dt.UTC)


def state(child: str, person: str | None, village: str = KESILIR, sex: WireSex = WireSex.FEMALE,
          birth_year: int | None = 2014, **case: Any) -> dict[str, Any]:
    return {"child_id": child, "person_id": person, "sex": sex, "birth_year": birth_year, "village_code": village,
            "case_id": None, "classification": None, "status": None} | case


def registered(child: str, person: str | None, month: int = 1, **kw: Any) -> ChildRegisteredV1:
    return ChildRegisteredV1(**state(child, person, **kw), registered_at=at(month))


def updated(child: str, person: str | None, month: int, **kw: Any) -> ChildUpdatedV1:
    return ChildUpdatedV1(**state(child, person, **kw), updated_at=at(month))


def case(child: str, classification: Classification, status: CaseStatus = CaseStatus.IDENTIFIED) -> dict[str, Any]:
    return {"case_id": f"case-{child}", "classification": classification, "status": status}


def classified(child: str, person: str, classification: Classification, month: int = 2, **kw: Any) -> ChildClassifiedV1:
    return ChildClassifiedV1(**state(child, person, **kw, **case(child, classification)), previous=None,
                             reason=ClassificationReason.IDENTIFIED, classified_at=at(month), classified_by="kader")


def closed(child: str, person: str, classification: Classification, reason: ClosureReason, month: int,
           **kw: Any) -> CaseStatusChangedV1:
    return CaseStatusChangedV1(**state(child, person, **kw, **case(child, classification, CaseStatus.CLOSED)),
                               previous=CaseStatus.MONITORING, closure_reason=reason, changed_at=at(month),
                               changed_by="officer")


def reopened(child: str, person: str, classification: Classification, month: int) -> CaseStatusChangedV1:
    return CaseStatusChangedV1(**state(child, person, **case(child, classification, CaseStatus.MONITORING)),
                               previous=CaseStatus.CLOSED, closure_reason=None, changed_at=at(month),
                               changed_by="officer")


def visited(child: str, person: str, day: dt.date, working: bool, visit: str) -> MonitoringVisitRecordedV1:
    return MonitoringVisitRecordedV1(
        **state(child, person, **case(child, Classification.CHILD_LABOURER, CaseStatus.MONITORING)), visit_id=visit,
        visited_on=day, visited_by="kader", child_working=working, sectors=("tobacco",) if working else (),
        school_status=SchoolStatus.ENROLLED)


def merged(merge: str, retired: str, surviving: str) -> PersonsMergedV1:
    return PersonsMergedV1(merge_id=merge, surviving_person_id=surviving, retired_person_id=retired,
                           moved_records=["simpul-registry:r1"], merged_by="reviewer", merged_at=at(3))


def unmerged(merge: str, retired: str, surviving: str) -> PersonUnmergedV1:
    return PersonUnmergedV1(merge_id=merge, person_id=retired, unmerged_from_person_id=surviving,
                            moved_records=["simpul-registry:r1"], unmerged_by="reviewer", unmerged_at=at(4))


class Indicators:
    """The fake reporting service: events delivered as the consumers get them, indicators read back."""

    def __init__(self) -> None:
        self.uow = FakeReportingUnitOfWork()
        self.sent: list[tuple[Event, CloudEvent]] = []

    async def deliver(self, *events: Event) -> None:
        for event in events:
            pair = (event, event.envelope())
            self.sent.append(pair)
            await self._apply([pair])

    async def _apply(self, pairs: Sequence[tuple[Event, CloudEvent]]) -> None:
        async with self.uow:
            for event, envelope in pairs:
                fresh = await self.uow.claim(event.topic, [Delivery(None, envelope, event)])  # type: ignore[arg-type]
                if fresh:
                    await HANDLERS[event.topic](self.uow, fresh)
            await self.uow.commit()

    async def redeliver_shuffled(self, seed: int) -> Indicators:
        """The same events (same envelopes), shuffled and each delivered twice, into a fresh service."""
        again = Indicators()
        pairs = self.sent * 2
        random.Random(seed).shuffle(pairs)
        await again._apply(pairs)
        return again

    async def cells(self, region: str = "ID", period: str = CUMULATIVE) -> dict[tuple[str, str, str, str], int]:
        cells = await execute(self.uow, indicator_cells, IndicatorCells(AS_OF, region, None, period))
        return {(c.indicator, c.region_code, c.sex, c.age_band): c.value for c in cells}

    async def count(self, indicator: str, region: str = "ID", period: str = CUMULATIVE, sex: Sex = Sex.ALL,
                    band: AgeBand = AgeBand.ALL) -> int:
        return (await self.cells(region, period)).get((indicator, region, sex, band), 0)


async def test_a_child_registered_twice_counts_once_and_an_unlinked_child_as_its_record() -> None:
    service = Indicators()
    await service.deliver(registered("c1", "p1"), registered("c2", "p1"), registered("c3", None))
    assert await service.count("registered", KESILIR) == 2
    assert await service.count("registered") == 2


async def test_counts_roll_up_the_region_hierarchy_and_the_margins_add_up() -> None:
    service = Indicators()
    await service.deliver(registered("c1", "p1"), registered("c2", "p2", village=WRINGINTELU, sex=WireSex.MALE),
                          registered("c3", "p3", village=SELELOS, birth_year=2019),
                          registered("c4", "p4", sex=WireSex.UNKNOWN, birth_year=None))
    cells = await service.cells()
    assert {code: cells[("registered", code, "all", "all")]
            for code in (KESILIR, "35.09.11", WRINGINTELU, "35.09", "35", "52.08", "52", "ID")} == {
        KESILIR: 2, "35.09.11": 2, WRINGINTELU: 1, "35.09": 3, "35": 3, "52.08": 1, "52": 1, "ID": 4}
    assert cells[("registered", "ID", "female", "all")] == 2  # c4's unknown sex counts only in the margin
    assert cells[("registered", "ID", "male", "all")] == 1
    assert cells[("registered", "ID", "all", "12-14")] == 2  # born 2014: 12 in 2026
    assert cells[("registered", "ID", "all", "5-11")] == 1  # born 2019: 7
    assert ("registered", "ID", "all", "15-17") not in cells


async def test_the_age_band_is_the_age_reached_in_the_events_year() -> None:
    service = Indicators()
    await service.deliver(registered("c1", "p1", birth_year=2011), registered("c2", "p2", birth_year=2009),
                          registered("c3", "p3", birth_year=2008), registered("c4", "p4", birth_year=2022))
    cells = await service.cells()
    assert cells[("registered", "ID", "all", "15-17")] == 2  # 15 and 17
    assert ("registered", "ID", "all", "5-11") not in cells  # 18 and 4 are in no band...
    assert cells[("registered", "ID", "all", "all")] == 4  # ...but in the margin


async def test_a_merge_corrects_past_counts_and_its_undoing_restores_them() -> None:
    service = Indicators()
    await service.deliver(registered("c1", "p1", month=1), registered("c2", "p2", month=2))
    assert await service.count("registered", period="202602") == 1
    await service.deliver(merged("m1", "p2", "p1"))
    assert await service.count("registered") == 1
    assert await service.count("registered", period="202602") == 0  # p2 was p1, registered in January
    assert await service.count("registered", period="202601") == 1
    await service.deliver(updated("c2", "p1", 3))  # the registry follows identity's links
    await service.deliver(unmerged("m1", "p2", "p1"), updated("c2", "p2", 4))
    assert await service.count("registered") == 2
    assert await service.count("registered", period="202602") == 1


async def test_an_undoing_before_its_merge_leaves_the_persons_apart() -> None:
    service = Indicators()
    await service.deliver(registered("c1", "p1"), registered("c2", "p2"), unmerged("m1", "p2", "p1"),
                          merged("m1", "p2", "p1"))
    assert await service.count("registered") == 2


async def test_classifications_and_closures_count_persons_and_a_reopened_closure_does_not() -> None:
    labourer, at_risk = Classification.CHILD_LABOURER, Classification.AT_RISK
    service = Indicators()
    await service.deliver(
        registered("c1", "p1"), registered("c2", "p2"), registered("c3", "p3"), registered("c4", "p4"),
        classified("c1", "p1", labourer), classified("c2", "p2", at_risk), classified("c3", "p3", at_risk),
        classified("c4", "p4", labourer),
        closed("c1", "p1", labourer, ClosureReason.WITHDRAWN, 9),
        closed("c2", "p2", at_risk, ClosureReason.PROTECTED, 4),
        closed("c3", "p3", at_risk, ClosureReason.PROTECTED, 4), reopened("c3", "p3", at_risk, 5),
        closed("c4", "p4", labourer, ClosureReason.AGED_OUT, 10))
    counts = {i: await service.count(i) for i in ("identified", "identified_child_labourers", "identified_at_risk",
                                                  "withdrawn", "protected", "aged_out", "moved")}
    assert counts == {"identified": 4, "identified_child_labourers": 2, "identified_at_risk": 2, "withdrawn": 1,
                      "protected": 1, "aged_out": 1, "moved": 0}
    assert await service.count("withdrawn", period="202609") == 1
    assert await service.count("protected", period="202604") == 1


async def test_services_follow_up_and_coverage() -> None:
    labourer = Classification.CHILD_LABOURER
    service = Indicators()
    issued = [ReferralIssuedV1(referral_id=f"r{n}", provider_id="prov", by="officer", at=at(3), child_id=f"c{n}",
                               person_id=f"p{n}", district="35.09", service_types=("child.school_re_entry",),
                               consent_overridden=False, previous_referral_id=None) for n in (1, 2)]
    await service.deliver(
        *(registered(f"c{n}", f"p{n}") for n in (1, 2, 3)),
        *(classified(f"c{n}", f"p{n}", labourer) for n in (1, 2, 3)),
        *issued,
        ReferralServiceRecordedV1(referral_id="r1", provider_id="prov", by="prov-user", at=at(4),
                                  service_type="child.school_re_entry", delivered_on=dt.date(2026, 4, 1)),
        ReferralServiceRecordedV1(referral_id="r2", provider_id="prov", by="prov-user", at=at(4),
                                  service_type="child.school_re_entry", delivered_on=dt.date(2026, 4, 2)),
        visited("c1", "p1", dt.date(2026, 3, 1), True, "v1"), visited("c1", "p1", dt.date(2026, 10, 1), False, "v2"),
        visited("c2", "p2", dt.date(2026, 5, 1), True, "v3"), visited("c3", "p3", dt.date(2026, 6, 1), False, "v4"))
    counts = {i: await service.count(i) for i in ("identified", "identified_with_service", "followed_up_after_service",
                                                  "no_longer_in_child_labour", "open_cases",
                                                  "open_cases_visited_90_days")}
    assert counts == {"identified": 3, "identified_with_service": 2, "followed_up_after_service": 2,
                      "no_longer_in_child_labour": 1, "open_cases": 3, "open_cases_visited_90_days": 1}
    assert await service.count("identified_with_service", period="202604") == 2
    assert await service.count("open_cases", period="202612") == 0  # a snapshot: cumulative only


async def test_redelivered_and_shuffled_events_give_the_same_cells() -> None:
    labourer = Classification.CHILD_LABOURER
    service = Indicators()
    await service.deliver(registered("c1", "p1"), registered("c2", "p2", month=2), classified("c1", "p1", labourer),
                          updated("c2", "p2", 3, village=WRINGINTELU), merged("m1", "p2", "p1"),
                          unmerged("m1", "p2", "p1"), closed("c1", "p1", labourer, ClosureReason.WITHDRAWN, 9),
                          reopened("c1", "p1", labourer, 10))
    expected = await service.cells()
    for seed in range(5):
        assert await (await service.redeliver_shuffled(seed)).cells() == expected
    for month in ("202601", "202602", "202609"):
        assert await (await service.redeliver_shuffled(7)).cells(period=month) == await service.cells(period=month)


async def test_a_registration_counts_where_it_happened_whatever_the_arrival_order() -> None:
    service = Indicators()
    await service.deliver(registered("c1", "p1"), updated("c1", "p1", 3, village=WRINGINTELU))
    again = Indicators()
    await again._apply(list(reversed(service.sent)))
    for each in (service, again):
        cells = await each.cells(period=CUMULATIVE)
        assert cells[("registered", KESILIR, "all", "all")] == 1  # where it was registered, not where it lives
        assert ("registered", WRINGINTELU, "all", "all") not in cells
