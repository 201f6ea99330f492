"""Referral and provider indicators against the fake: each step counted once per referral at its district and above,
the funnel by provider and service type, days to acceptance and completion, providers vetted and under agreement."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reporting.domain.cells import CUMULATIVE
from reporting.domain.indicator_commands import IndicatorCells, IndicatorReport, ReferralFigures
from reporting.domain.referral_indicators import nearest_rank
from reporting.domain.targets import pilot_targets
from reporting.entrypoints.consumers.referral_providers import provider_events
from reporting.entrypoints.consumers.referral_referrals import referral_events
from reporting.service_layer.fake import FakeReportingUnitOfWork
from reporting.service_layer.indicator_handlers import indicator_cells, indicator_report, referral_figures
from simpul_contracts import Event
from simpul_contracts.events.referral.providers import (
    AgreementKind,
    ProviderAgreementChangedV1,
    ProviderOffboardedV1,
    ProviderRegisteredV1,
    ProviderRescoredV1,
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
)
from simpul_platform.delivery import Delivery
from simpul_platform.unit_of_work import execute

AS_OF = dt.date(2026, 12, 1)
SCHOOL, HEALTH = "child.school_re_entry", "child.health"


def at(month: int, day: int = 1) -> dt.datetime:
    return dt.datetime(2026, month, day, 9, tzinfo=dt.UTC)


def common(referral: str, provider: str, when: dt.datetime) -> dict[str, Any]:
    return {"referral_id": referral, "provider_id": provider, "by": "someone", "at": when}


def issued(referral: str, provider: str, district: str, when: dt.datetime, *types: str) -> ReferralIssuedV1:
    return ReferralIssuedV1(**common(referral, provider, when), child_id=f"c-{referral}", person_id=f"p-{referral}",
                            district=district, service_types=types or (SCHOOL,), consent_overridden=False,
                            previous_referral_id=None)


async def deliver(uow: FakeReportingUnitOfWork, *events: Event) -> None:
    for event in events:
        async with uow:
            handler = referral_events if event.topic == "referral.referral.v1" else provider_events
            await handler(uow, [Delivery(None, event.envelope(), event)])  # type: ignore[arg-type]
            await uow.commit()


async def counts(uow: FakeReportingUnitOfWork, region: str, period: str = CUMULATIVE) -> dict[str, int]:
    cells = await execute(uow, indicator_cells, IndicatorCells(AS_OF, region, None, period))
    return {c.indicator: c.value for c in cells if c.region_code == region}


def a_funnel() -> list[Event]:
    return [
        issued("r1", "prov-a", "35.09", at(3, 1), SCHOOL, HEALTH),
        ReferralAcceptedV1(**common("r1", "prov-a", at(3, 4))),
        ReferralCompletedV1(**common("r1", "prov-a", at(4, 10))),
        issued("r2", "prov-a", "35.09", at(3, 2)), ReferralDeclinedV1(**common("r2", "prov-a", at(3, 3)),
                                                                      reason=DeclineReason.NO_CAPACITY),
        issued("r3", "prov-b", "35.09", at(3, 5)),
        ReferralOverdueV1(**common("r3", "prov-b", at(3, 8)), deadline_id="r3/acknowledge",
                          step=DeadlineStep.ACKNOWLEDGE, due_at=at(3, 8)),
        ReferralOverdueV1(**common("r3", "prov-b", at(3, 12)), deadline_id="r3/answer", step=DeadlineStep.ANSWER,
                          due_at=at(3, 12)),
        ReferralExpiredV1(**common("r3", "prov-b", at(4, 2))),
        issued("r4", "prov-c", "52.03", at(5, 1)), ReferralAcceptedV1(**common("r4", "prov-c", at(5, 11))),
    ]


async def test_each_step_counts_once_per_referral_at_its_district_and_above() -> None:
    uow = FakeReportingUnitOfWork()
    await deliver(uow, *a_funnel())
    assert await counts(uow, "35.09") == {"referrals_issued": 3, "referrals_accepted": 1, "referrals_declined": 1,
                                          "referrals_completed": 1, "referrals_expired": 1, "referrals_overdue": 1}
    assert (await counts(uow, "ID"))["referrals_issued"] == 4
    assert (await counts(uow, "52"))["referrals_accepted"] == 1
    assert (await counts(uow, "35.09", "202604")) == {"referrals_completed": 1, "referrals_expired": 1}


async def test_a_step_before_its_issue_counts_once_the_issue_arrives() -> None:
    uow = FakeReportingUnitOfWork()
    await deliver(uow, ReferralAcceptedV1(**common("r1", "prov-a", at(3, 4))))
    assert await counts(uow, "ID") == {}
    await deliver(uow, issued("r1", "prov-a", "35.09", at(3, 1)))
    assert await counts(uow, "ID") == {"referrals_issued": 1, "referrals_accepted": 1}


async def test_the_funnel_by_provider_and_service_type_and_its_timeliness() -> None:
    uow = FakeReportingUnitOfWork()
    await deliver(uow, *a_funnel())
    report = await execute(uow, referral_figures, ReferralFigures("35.09"))
    rows = {(row.provider_id, row.service_type): row.counts for row in report.funnel}
    assert set(rows) == {("prov-a", SCHOOL), ("prov-a", HEALTH), ("prov-b", SCHOOL)}
    assert rows[("prov-a", SCHOOL)]["referrals_issued"] == 2
    assert rows[("prov-a", HEALTH)]["referrals_completed"] == 1
    assert rows[("prov-b", SCHOOL)]["referrals_expired"] == 1
    national = await execute(uow, referral_figures, ReferralFigures("ID"))
    accepted, completed = national.timeliness
    assert (accepted.referrals, accepted.median_days, accepted.p90_days) == (2, 6.5, 10.0)  # 3 and 10 days
    assert (completed.referrals, completed.median_days) == (1, 40.0)


async def test_the_report_of_a_read_holds_the_cells_and_the_referral_figures_of_its_region() -> None:
    uow = FakeReportingUnitOfWork()
    await deliver(uow, *a_funnel())
    query = IndicatorCells(AS_OF, "35.09", None, "202604")
    answer = await execute(uow, indicator_report, IndicatorReport(query))
    assert answer.cells == await execute(uow, indicator_cells, query)
    assert answer.referrals == await execute(uow, referral_figures, ReferralFigures("35.09"))
    assert {c.indicator for c in answer.cells if c.region_code == "35.09"} == {"referrals_completed",
                                                                                 "referrals_expired"}


def test_the_p90_is_the_nearest_rank() -> None:
    assert nearest_rank([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert nearest_rank([4.0], 0.9) == 4.0


def provider(provider_id: str, *districts: str) -> ProviderRegisteredV1:
    return ProviderRegisteredV1(provider_id=provider_id, recorded_by="officer", recorded_at=at(1),
                                organisation=f"Org {provider_id}", provider_type=ProviderType.NGO,
                                districts=list(districts))


def vetted(provider_id: str, recommendation: VettingRecommendation, month: int = 2) -> ProviderVettedV1:
    return ProviderVettedV1(provider_id=provider_id, recorded_by="officer", recorded_at=at(month), vetting_id="v1",
                            total=9, recommendation=recommendation)


def agreement(provider_id: str, starts: dt.date, ends: dt.date) -> ProviderAgreementChangedV1:
    return ProviderAgreementChangedV1(provider_id=provider_id, recorded_by="officer", recorded_at=at(2),
                                      agreement_id=f"a-{provider_id}", kind=AgreementKind.MOU, starts_on=starts,
                                      ends_on=ends, service_types=[SCHOOL], districts=["35.09"])


async def test_providers_vetted_and_under_an_agreement_in_force_count_once_above_their_districts() -> None:
    uow = FakeReportingUnitOfWork()
    year = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    await deliver(
        uow, provider("p1", "35.09", "52.03"), vetted("p1", VettingRecommendation.RECOMMENDED), agreement("p1", *year),
        provider("p2", "35.09"), vetted("p2", VettingRecommendation.MAY_BE_RECOMMENDED),
        agreement("p2", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),  # ended before AS_OF
        provider("p3", "35.09"), vetted("p3", VettingRecommendation.RECOMMENDED),
        ProviderRescoredV1(provider_id="p3", recorded_by="referral:rescoring", recorded_at=at(6), vetting_id="v1",
                           on=dt.date(2026, 6, 1), previous_total=9, total=5,
                           recommendation=VettingRecommendation.NOT_RECOMMENDED),
        provider("p4", "35.09"), vetted("p4", VettingRecommendation.RECOMMENDED), agreement("p4", *year),
        ProviderOffboardedV1(provider_id="p4", recorded_by="officer", recorded_at=at(7)))
    assert await counts(uow, "35.09") == {"providers_vetted": 2, "providers_with_agreement_in_force": 1}
    assert await counts(uow, "52.03") == {"providers_vetted": 1, "providers_with_agreement_in_force": 1}
    assert await counts(uow, "ID") == {"providers_vetted": 2, "providers_with_agreement_in_force": 1}


def test_targets_of_a_region_are_its_programme_villages_and_the_provider_target_is_national() -> None:
    targets = pilot_targets(("35.09.11.2007", "35.09.08.2005", "52.03.20.2006"))
    assert targets.of("withdrawn", "35.09") == 40
    assert targets.of("protected", "ID") == 600
    assert targets.of("registered", "35.09.11.2007") == 220
    assert targets.of("withdrawn", "52.08") is None
    assert targets.of("providers_with_agreement_in_force", "ID") == 30
    assert targets.of("providers_with_agreement_in_force", "35.09") is None
