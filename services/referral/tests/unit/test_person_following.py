"""Following the person and the case, against the fake: identity's merges and unmerges move referrals (in any
order, any number of times), and the registry's case status shows on them, closure revoking by district rule."""

from __future__ import annotations

import datetime as dt

from referral.config import ReferralSettings
from referral.domain.case_status import CaseStatus, ClosureRule
from referral.domain.commands.persons import (
    FollowMerges,
    FollowUnmerges,
    PersonsMerged,
    PersonUnmerged,
    RecordCaseStatuses,
)
from referral.domain.consent import RecordedConsent
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from referral.entrypoints.consumers.case_status import case_status_changed
from referral.entrypoints.consumers.identity_persons import merged, unmerged
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers.persons import follow_merges, follow_unmerges, record_case_statuses
from simpul_contracts.events import CaseStatusChangedV1, PersonsMergedV1, PersonUnmergedV1
from simpul_contracts.events.referral.referrals import ReferralPersonChangedV1, ReferralRevokedV1
from simpul_contracts.events.registry import CaseStatus as WireCaseStatus
from simpul_contracts.events.registry import Classification, ClosureReason
from simpul_platform.delivery import Delivery
from simpul_platform.unit_of_work import execute

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
JEMBER, LOMBOK_TIMUR = "35.09", "52.03"
MERGE = PersonsMerged("m1", retired_person_id="p-old", surviving_person_id="p-new", at=AT)
UNMERGE = PersonUnmerged("m1", person_id="p-old", unmerged_from_person_id="p-new", at=AT + HOUR)


async def referred(uow: FakeReferralUnitOfWork, referral_id: str, person_id: str, child_id: str = "c1",
                   district: str = JEMBER) -> None:
    request = ReferralRequest(referral_id, child_id, person_id, district, ("child.school_re_entry",),
                              RecordedConsent(AT - HOUR))
    async with uow:
        await uow.referrals.save(Referral(request, "lpa", [Step(ReferralStatus.ISSUED, "officer", AT)],
                                          PersonLink(person_id)))
        await uow.commit()


async def persons(uow: FakeReferralUnitOfWork) -> dict[str, str]:
    async with uow:
        return {r.referral_id: r.person_id for r in uow.referrals.referrals.values()}


async def referral(uow: FakeReferralUnitOfWork, referral_id: str) -> Referral:
    async with uow:
        found = await uow.referrals.get(referral_id)
    assert found is not None
    return found


async def test_a_merge_moves_the_retired_persons_referrals_and_an_unmerge_moves_them_back() -> None:
    uow = FakeReferralUnitOfWork()
    await referred(uow, "r-old", "p-old")
    await referred(uow, "r-new", "p-new")
    await referred(uow, "r-other", "p-other")
    assert await execute(uow, follow_merges, FollowMerges((MERGE,))) == 1
    assert await persons(uow) == {"r-old": "p-new", "r-new": "p-new", "r-other": "p-other"}
    [changed] = uow.published
    assert isinstance(changed, ReferralPersonChangedV1)
    assert (changed.referral_id, changed.previous_person_id, changed.person_id, changed.merge_id) == (
        "r-old", "p-old", "p-new", "m1")
    assert await execute(uow, follow_unmerges, FollowUnmerges((UNMERGE,))) == 1
    assert await persons(uow) == {"r-old": "p-old", "r-new": "p-new", "r-other": "p-other"}
    assert [(e.referral_id, e.person_id) for e in uow.published[1:]] == [("r-old", "p-old")]  # type: ignore[attr-defined]


async def test_a_repeated_merge_or_unmerge_changes_nothing() -> None:
    uow = FakeReferralUnitOfWork()
    await referred(uow, "r-old", "p-old")
    await execute(uow, follow_merges, FollowMerges((MERGE, MERGE)))
    assert await execute(uow, follow_merges, FollowMerges((MERGE,))) == 0
    await execute(uow, follow_unmerges, FollowUnmerges((UNMERGE,)))
    assert await execute(uow, follow_unmerges, FollowUnmerges((UNMERGE,))) == 0
    assert await execute(uow, follow_merges, FollowMerges((MERGE,))) == 0  # the undone merge, redelivered late
    assert await persons(uow) == {"r-old": "p-old"}
    assert len(uow.published) == 2


async def test_an_unmerge_that_arrives_before_its_merge_keeps_the_referral_where_it_is() -> None:
    uow = FakeReferralUnitOfWork()
    await referred(uow, "r-old", "p-old")
    assert await execute(uow, follow_unmerges, FollowUnmerges((UNMERGE,))) == 0
    assert await execute(uow, follow_merges, FollowMerges((MERGE,))) == 0
    assert await persons(uow) == {"r-old": "p-old"}
    assert uow.published == []


async def test_a_chain_of_merges_in_one_run_follows_to_the_last_survivor() -> None:
    uow = FakeReferralUnitOfWork()
    await referred(uow, "r1", "p-a")
    chain = (PersonsMerged("m1", "p-a", "p-b", AT), PersonsMerged("m2", "p-b", "p-c", AT + HOUR))
    assert await execute(uow, follow_merges, FollowMerges(chain)) == 2
    assert await persons(uow) == {"r1": "p-c"}


async def test_the_consumer_entry_points_map_identitys_events() -> None:
    uow = FakeReferralUnitOfWork()
    await referred(uow, "r-old", "p-old")
    merge = PersonsMergedV1(merge_id="m1", surviving_person_id="p-new", retired_person_id="p-old",
                            moved_records=["registry:c1"], merged_by="reviewer", merged_at=AT)
    unmerge = PersonUnmergedV1(merge_id="m1", person_id="p-old", unmerged_from_person_id="p-new",
                               moved_records=["registry:c1"], unmerged_by="reviewer", unmerged_at=AT + HOUR)
    async with uow:
        await merged(uow, [delivery(merge)])
        await uow.commit()
    assert await persons(uow) == {"r-old": "p-new"}
    async with uow:
        await unmerged(uow, [delivery(unmerge)])
        await uow.commit()
    assert await persons(uow) == {"r-old": "p-old"}


def status(child_id: str, closed: bool, at: dt.datetime) -> CaseStatus:
    return CaseStatus(child_id, "closed" if closed else "monitoring", closed, at)


async def test_a_closure_shows_on_the_open_referrals_and_revokes_them_only_where_the_district_says() -> None:
    uow = FakeReferralUnitOfWork()
    await referred(uow, "r-jember", "p1", district=JEMBER)
    await referred(uow, "r-lotim", "p1", district=LOMBOK_TIMUR)
    rule = ClosureRule(revokes=False, by_district={LOMBOK_TIMUR: True})
    assert await execute(uow, record_case_statuses, RecordCaseStatuses((status("c1", True, AT),), rule)) == 2
    jember, lotim = await referral(uow, "r-jember"), await referral(uow, "r-lotim")
    assert (jember.case_closed, jember.status) == (True, ReferralStatus.ISSUED)
    assert (lotim.case_closed, lotim.status) == (True, ReferralStatus.REVOKED)
    [revoked] = uow.published
    assert isinstance(revoked, ReferralRevokedV1)
    assert (revoked.referral_id, revoked.reason) == ("r-lotim", "case_closed")


async def test_a_reopening_shows_and_a_stale_or_repeated_status_changes_nothing() -> None:
    uow = FakeReferralUnitOfWork()
    await referred(uow, "r1", "p1")
    rule = ClosureRule()
    await execute(uow, record_case_statuses, RecordCaseStatuses((status("c1", True, AT),), rule))
    await execute(uow, record_case_statuses, RecordCaseStatuses((status("c1", False, AT + HOUR),), rule))
    assert not (await referral(uow, "r1")).case_closed
    stale = RecordCaseStatuses((status("c1", True, AT), status("c1", True, AT + HOUR)), rule)
    assert await execute(uow, record_case_statuses, stale) == 0  # older than, or as old as, the reopening
    assert not (await referral(uow, "r1")).case_closed
    async with uow:
        assert await uow.case_statuses.get("c1") == status("c1", False, AT + HOUR)


async def test_the_case_status_entry_point_reads_the_districts_rule_from_settings() -> None:
    uow = FakeReferralUnitOfWork()
    await referred(uow, "r1", "p1")
    handle = case_status_changed(ReferralSettings(case_closure_revokes_by_district={JEMBER: True}))
    event = CaseStatusChangedV1(child_id="c1", person_id="p1", sex="female", birth_year=2012,
                                village_code="35.09.11.2007", case_id="case1",
                                classification=Classification.CHILD_LABOURER, status=WireCaseStatus.CLOSED,
                                previous=WireCaseStatus.MONITORING, closure_reason=ClosureReason.WITHDRAWN,
                                changed_at=AT, changed_by="cadre")
    async with uow:
        await handle(uow, [delivery(event)])
        await uow.commit()
    assert (await referral(uow, "r1")).status is ReferralStatus.REVOKED


def delivery(event: PersonsMergedV1 | PersonUnmergedV1 | CaseStatusChangedV1) -> Delivery:
    return Delivery(record=None, envelope=event.envelope(), event=event)  # type: ignore[arg-type]
