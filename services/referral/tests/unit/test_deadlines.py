"""The deadline job's use case against the fake: what fell due fires once, is published, and the job moves on."""

from __future__ import annotations

import datetime as dt

from referral.config import ReferralSettings
from referral.domain.agreements import Agreement, AgreementKind
from referral.domain.commands.deadlines import FireDueDeadlines
from referral.domain.commands.referrals import IssueReferral
from referral.domain.consent import RecordedConsent
from referral.domain.deadlines import DeadlinePolicies
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.providers import Provider, ProviderType
from referral.domain.referrals import Referral
from referral.domain.vetting import LegalDocument, LegalDocumentKind, Vetting, YearsWithChildren
from referral.entrypoints.jobs import deadline_policies, fire_deadlines
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers.deadlines import DeadlineRound, fire_due_deadlines, watch_deadlines
from referral.service_layer.handlers.referrals import issue_referral
from simpul_contracts.events.referral.referrals import (
    ReferralEscalatedV1,
    ReferralExpiredV1,
    ReferralOverdueV1,
)
from simpul_platform.auth import Principal, Role
from simpul_platform.unit_of_work import execute

DAY, SECOND = dt.timedelta(days=1), dt.timedelta(seconds=1)
ISSUED_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
SCHOOL, HEALTH = "child.school_re_entry", "child.health"
DEFAULTS = deadline_policies(ReferralSettings())


async def issue(uow: FakeReferralUnitOfWork, referral_id: str, *service_types: str,
                at: dt.datetime = ISSUED_AT) -> None:
    """A referral issued at `at` and watched, as the issue handler leaves it."""
    request = ReferralRequest(referral_id, f"c-{referral_id}", f"p-{referral_id}", "35.09",
                              service_types or (SCHOOL,), RecordedConsent(at - DAY))
    referral = Referral(request, "lpa-jember", [Step(ReferralStatus.ISSUED, "officer", at)],
                        PersonLink(request.person_id))
    async with uow:
        await uow.referrals.save(referral)
        await watch_deadlines(referral, uow)
        await uow.commit()


async def run_round(uow: FakeReferralUnitOfWork, now: dt.datetime, policies: DeadlinePolicies = DEFAULTS,
                    limit: int = 200) -> DeadlineRound:
    return await execute(uow, fire_due_deadlines, FireDueDeadlines(now, policies, limit))


async def status(uow: FakeReferralUnitOfWork, referral_id: str) -> ReferralStatus:
    async with uow:
        referral = await uow.referrals.get(referral_id)
    assert referral is not None
    return referral.status


async def test_the_settings_give_the_issue_defaults_3_7_and_14_days() -> None:
    assert deadline_policies(ReferralSettings()) == DeadlinePolicies()
    custom = deadline_policies(ReferralSettings(deadlines_by_service_type={HEALTH: (1, 2, 4)}))
    assert custom.for_service_types([SCHOOL, HEALTH]).expire_after == 4 * DAY


async def test_nothing_fires_before_three_days_and_the_acknowledgement_is_overdue_on_the_dot() -> None:
    uow = FakeReferralUnitOfWork()
    await issue(uow, "r1")
    assert (await run_round(uow, ISSUED_AT + 3 * DAY - SECOND)).fired == ()
    assert uow.published == []
    assert uow.deadlines.due == {"r1": ISSUED_AT + 3 * DAY}  # the first look moved the row to the first deadline
    assert (await run_round(uow, ISSUED_AT + 3 * DAY)).fired == ("r1/acknowledge",)
    [overdue] = uow.published
    assert isinstance(overdue, ReferralOverdueV1)
    assert (overdue.referral_id, overdue.deadline_id, overdue.due_at) == ("r1", "r1/acknowledge", ISSUED_AT + 3 * DAY)


async def test_an_unanswered_referral_is_overdue_escalated_then_expired_each_exactly_once() -> None:
    uow = FakeReferralUnitOfWork()
    await issue(uow, "r1")
    fired = [(await run_round(uow, ISSUED_AT + days * DAY)).fired for days in (3, 3, 7, 7, 14, 20)]
    assert fired == [("r1/acknowledge",), (), ("r1/answer", "r1/escalation"), (), ("r1/expiry",), ()]
    assert [type(event) for event in uow.published] == [ReferralOverdueV1, ReferralOverdueV1, ReferralEscalatedV1,
                                                        ReferralExpiredV1]
    assert await status(uow, "r1") is ReferralStatus.EXPIRED
    assert uow.deadlines.due == {}  # nothing left to watch


async def test_a_scheduler_that_was_down_fires_every_missed_deadline_in_one_round_in_order() -> None:
    uow = FakeReferralUnitOfWork()
    await issue(uow, "r1")
    assert (await run_round(uow, ISSUED_AT + 30 * DAY)).fired == (
        "r1/acknowledge", "r1/answer", "r1/escalation", "r1/expiry")


async def test_an_acknowledged_referral_is_not_overdue_for_acknowledgement_and_an_accepted_one_never_expires() -> None:
    uow = FakeReferralUnitOfWork()
    await issue(uow, "acked")
    await issue(uow, "accepted")
    async with uow:
        for referral_id in ("acked", "accepted"):
            referral = await uow.referrals.get(referral_id)
            assert referral is not None
            referral.acknowledge("provider", ISSUED_AT + DAY)
            if referral_id == "accepted":
                referral.accept("provider", ISSUED_AT + 2 * DAY)
            await uow.referrals.save(referral)
        await uow.commit()
    assert (await run_round(uow, ISSUED_AT + 30 * DAY)).fired == ("acked/answer", "acked/escalation", "acked/expiry")
    assert await status(uow, "accepted") is ReferralStatus.ACCEPTED
    assert uow.deadlines.due == {}


async def test_the_strictest_policy_of_the_referrals_services_applies() -> None:
    uow = FakeReferralUnitOfWork()
    policies = deadline_policies(ReferralSettings(deadlines_by_service_type={HEALTH: (1, 2, 4)}))
    await issue(uow, "school")
    await issue(uow, "both", SCHOOL, HEALTH)
    assert (await run_round(uow, ISSUED_AT + DAY, policies)).fired == ("both/acknowledge",)
    assert (await run_round(uow, ISSUED_AT + 4 * DAY, policies)).fired == (
        "both/answer", "both/escalation", "both/expiry", "school/acknowledge")


async def test_the_job_works_through_every_due_referral_in_batches_and_only_the_due_ones() -> None:
    uow = FakeReferralUnitOfWork()
    for n in range(5):
        await issue(uow, f"r{n}")
    await issue(uow, "later", at=ISSUED_AT + 2 * DAY)
    fired = await fire_deadlines(lambda: uow, lambda: ISSUED_AT + 3 * DAY, DEFAULTS, batch_size=2)
    assert sorted(fired) == [f"r{n}/acknowledge" for n in range(5)]
    assert uow.commits == 6 + 4  # six issues; six rows to look at (the later one for its first look): 2+2+2+0
    assert await fire_deadlines(lambda: uow, lambda: ISSUED_AT + 3 * DAY, DEFAULTS, batch_size=2) == []


async def test_a_watched_referral_that_is_gone_leaves_the_watch_list() -> None:
    uow = FakeReferralUnitOfWork()
    async with uow:
        await uow.deadlines.schedule("ghost", ISSUED_AT)
        await uow.commit()
    assert await run_round(uow, ISSUED_AT + DAY) == DeadlineRound(claimed=1, fired=())
    assert uow.deadlines.due == {}


async def test_a_round_that_fails_fires_nothing() -> None:
    uow = FakeReferralUnitOfWork()
    await issue(uow, "r1")
    async with uow:
        await fire_due_deadlines(FireDueDeadlines(ISSUED_AT + 3 * DAY, DEFAULTS), uow)
        # no commit: the job's transaction failed after firing
    assert uow.published == []
    assert (await run_round(uow, ISSUED_AT + 3 * DAY)).fired == ("r1/acknowledge",)


async def test_a_referral_issued_through_the_gates_is_watched_and_falls_due_like_any_other() -> None:
    uow = FakeReferralUnitOfWork()
    await eligible_provider(uow)
    officer = Principal("officer", Role.DISTRICT_OFFICER, ("35.09",))
    await execute(uow, issue_referral, IssueReferral(officer, "r1", "c1", "p1", "35.09", "lpa", (SCHOOL,), ISSUED_AT,
                                                     consent_override_reason="form signed on the visit"))
    assert uow.deadlines.due == {"r1": ISSUED_AT}
    uow.published.clear()
    assert (await run_round(uow, ISSUED_AT + 3 * DAY)).fired == ("r1/acknowledge",)
    assert [type(event) for event in uow.published] == [ReferralOverdueV1]


async def eligible_provider(uow: FakeReferralUnitOfWork) -> None:
    """Provider `lpa`: vetted 9 and under an MoU for school re-entry in Jember on ISSUED_AT."""
    since, by = dt.date(2020, 1, 1), "officer"
    provider = Provider.register(provider_id="lpa", organisation="LPA Jember", provider_type=ProviderType.NGO,
                                 districts=frozenset({"35.09"}), by=by, at=ISSUED_AT - 60 * DAY)
    documents = tuple(LegalDocument(kind, f"doc-{kind}", since) for kind in LegalDocumentKind)
    provider.record_vetting(Vetting("v1", documents, 2, 2, 1, YearsWithChildren.UNDER_5, by, ISSUED_AT - 30 * DAY))
    provider.record_agreement(Agreement("mou-1", AgreementKind.MOU, "MoU 1/2026", dt.date(2026, 1, 1),
                                        dt.date(2026, 12, 31), frozenset({SCHOOL}), frozenset({"35.09"})),
                              by, ISSUED_AT - 30 * DAY)
    async with uow:
        await uow.providers.save(provider)
        await uow.commit()
