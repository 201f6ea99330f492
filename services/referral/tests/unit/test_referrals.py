"""The referrals area's use cases against the in-memory unit of work: the consent and eligibility gates, the
lifecycle with who/when, scope, audits, the district queue, and the guardians' consent (newest wins; a withdrawal
revokes the child's open referrals and tells the provider)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import pytest

from referral.domain.agreements import Agreement, AgreementKind
from referral.domain.commands.referrals import (
    AcceptReferral,
    AcknowledgeReferral,
    CompleteReferral,
    DeclineReferral,
    IssueReferral,
    ReadDistrictQueue,
    ReadReferral,
    RecordConsentDecisions,
    RecordService,
    RevokeReferral,
    SearchReferrals,
    StartService,
)
from referral.domain.consent import ConsentState
from referral.domain.district_queue import QueueReason
from referral.domain.lifecycle import DeclineReason, ReferralStatus
from referral.domain.providers import Capacity, Provider, ProviderType
from referral.domain.referrals import Referral
from referral.domain.vetting import LegalDocument, LegalDocumentKind, Vetting, YearsWithChildren
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers import referrals as h
from simpul_contracts.events.referral import referrals as wire
from simpul_platform.auth import Principal, Role
from simpul_platform.errors import DomainError, ErrorKind
from simpul_platform.unit_of_work import execute

JEMBER, LOMBOK_TIMUR = "35.09", "52.03"
SCHOOL, PSYCHOSOCIAL, LEGAL_AID = "child.school_re_entry", "child.psychosocial_support", "child.legal_aid"
DIRECTORY_OFFICER = "officer-jember"
SINCE = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
"""When the providers were registered, vetted and signed (before every test's referral)."""


class State(enum.StrEnum):
    """A provider's standing before the gate."""

    ELIGIBLE = "eligible"
    UNVETTED = "unvetted"
    SCORED_5 = "scored_5"
    OTHER_SERVICES = "other_services"
    OTHER_DISTRICT = "other_district"
    AGREEMENT_EXPIRED = "agreement_expired"
    SUSPENDED = "suspended"
    FULL = "full"


def _documents(kinds: int) -> tuple[LegalDocument, ...]:
    return tuple(LegalDocument(kind, f"DOC-{n}", dt.date(2020, 1, 1))
                 for n, kind in enumerate(list(LegalDocumentKind)[:kinds]))


def _vetting(total: int) -> Vetting:
    """A vetting scoring 8 (legality 4, track record 2, vision 1, orientation 1) or 5 (legality 1 instead)."""
    return Vetting("v1", _documents(total - 4), 2, 1, 1, YearsWithChildren.NONE, DIRECTORY_OFFICER, SINCE)


def provider(provider_id: str, state: State = State.ELIGIBLE) -> Provider:
    """A provider of Jember in `state`; its events cleared."""
    built = Provider.register(provider_id=provider_id, organisation=f"LPA {provider_id}",
                              provider_type=ProviderType.NGO, districts=frozenset({JEMBER}), by=DIRECTORY_OFFICER,
                              at=SINCE)
    if state is not State.UNVETTED:
        built.record_vetting(_vetting(5 if state is State.SCORED_5 else 8))
    services = frozenset({LEGAL_AID}) if state is State.OTHER_SERVICES else frozenset({SCHOOL, PSYCHOSOCIAL})
    districts = frozenset({LOMBOK_TIMUR}) if state is State.OTHER_DISTRICT else frozenset({JEMBER})
    ends_on = dt.date(2026, 1, 31) if state is State.AGREEMENT_EXPIRED else dt.date(2030, 12, 31)
    built.record_agreement(Agreement("mou-1", AgreementKind.MOU, "MoU 12/2026", dt.date(2026, 1, 1), ends_on,
                                     services, districts), DIRECTORY_OFFICER, SINCE)
    if state is State.SUSPENDED:
        built.suspend("audit pending", DIRECTORY_OFFICER, SINCE)
    if state is State.FULL:
        built.set_capacity(Capacity.FULL, DIRECTORY_OFFICER, SINCE)
    built.events.clear()
    return built


AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
OFFICER = Principal("officer-jember", Role.DISTRICT_OFFICER, (JEMBER,))
CLIENT = Principal("jember-sis", Role.SERVICE, (JEMBER,))
LOMBOK_OFFICER = Principal("officer-lotim", Role.DISTRICT_OFFICER, ("52.03",))
PROVIDER = Principal("staff-lpa", Role.PROVIDER, ("lpa",))


async def world(*states: State, consent: bool = True) -> FakeReferralUnitOfWork:
    """A fake with providers `lpa` and `lpa2` (eligible), one per state, and child c1's consent if asked."""
    uow = FakeReferralUnitOfWork()
    async with uow:
        await uow.providers.save(provider("lpa"))
        await uow.providers.save(provider("lpa2"))
        for state in states:
            await uow.providers.save(provider(str(state), state))
        if consent:
            await uow.consents.save(ConsentState("c1", True, AT - dt.timedelta(days=1)))
        await uow.commit()
    return uow


def issue(**changes: Any) -> IssueReferral:
    fields: dict[str, Any] = {"by": OFFICER, "referral_id": "r1", "child_id": "c1", "person_id": "p1",
                              "district": JEMBER, "provider_id": "lpa", "service_types": (SCHOOL,), "at": AT}
    return IssueReferral(**(fields | changes))


async def refused(uow: FakeReferralUnitOfWork, handler: Any, command: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await execute(uow, handler, command)
    return caught.value


def later(hours: int) -> dt.datetime:
    return AT + dt.timedelta(hours=hours)


async def test_an_issued_referral_is_stored_announced_and_audited() -> None:
    uow = await world()
    referral = await execute(uow, h.issue_referral, issue())
    assert (referral.status, referral.version, referral.history[0].by) == (ReferralStatus.ISSUED, 1, OFFICER.subject)
    [event] = uow.published
    assert isinstance(event, wire.ReferralIssuedV1)
    assert (event.referral_id, event.child_id, event.district, event.consent_overridden) == ("r1", "c1", JEMBER, False)
    assert [a.action for a in uow.audited] == ["issue"]


@pytest.mark.parametrize(("state", "rule", "field"), [
    (State.UNVETTED, "provider_vetted", "provider_id"),
    (State.SCORED_5, "vetting_score", "provider_id"),
    (State.OTHER_SERVICES, "agreement_service_type", "service_type"),
    (State.OTHER_DISTRICT, "agreement_district", "district"),
    (State.AGREEMENT_EXPIRED, "agreement_in_force", "provider_id"),
    (State.SUSPENDED, "provider_active", "provider_id"),
    (State.FULL, "capacity_full", "capacity_override"),
])
async def test_the_gate_refuses_naming_the_rule_and_changes_nothing(state: State, rule: str, field: str) -> None:
    uow = await world(state)
    error = await refused(uow, h.issue_referral, issue(provider_id=str(state)))
    assert (error.kind, error.field, error.reason.split(":")[0]) == (ErrorKind.CONFLICT, field, rule)
    assert (uow.published, uow.audited, uow.referrals.referrals) == ([], [], {})


async def test_a_full_provider_takes_a_referral_on_an_officers_audited_override() -> None:
    uow = await world(State.FULL)
    referral = await execute(uow, h.issue_referral, issue(provider_id="full", capacity_override_reason="urgent"))
    assert referral.status is ReferralStatus.ISSUED
    assert [(a.action, a.reason) for a in uow.audited] == [("issue", None), ("override_capacity", "urgent")]


async def test_no_consent_is_refused_and_an_officers_override_with_a_reason_is_audited() -> None:
    uow = await world(consent=False)
    error = await refused(uow, h.issue_referral, issue())
    assert (error.kind, error.field) == (ErrorKind.CONFLICT, "consent")
    client = await refused(uow, h.issue_referral, issue(by=CLIENT, consent_override_reason="child in danger"))
    assert (client.kind, client.field) == (ErrorKind.FORBIDDEN, "consent_override_reason")
    blank = await refused(uow, h.issue_referral, issue(consent_override_reason=" "))
    assert blank.field == "override.reason"
    referral = await execute(uow, h.issue_referral, issue(consent_override_reason="child in danger"))
    assert referral.request.consent_overridden
    assert ("override_consent", "child in danger") in [(a.action, a.reason) for a in uow.audited]
    assert uow.published[-1].consent_overridden  # type: ignore[attr-defined]


async def test_withdrawn_consent_is_no_consent() -> None:
    uow = await world()
    await execute(uow, h.record_consent_decisions, RecordConsentDecisions((ConsentState("c1", False, AT),), AT))
    assert (await refused(uow, h.issue_referral, issue(at=later(1)))).field == "consent"


async def test_another_districts_child_cannot_be_referred_and_its_referral_is_not_found() -> None:
    uow = await world()
    assert (await refused(uow, h.issue_referral, issue(by=LOMBOK_OFFICER))).kind is ErrorKind.FORBIDDEN
    await execute(uow, h.issue_referral, issue())
    for command in (ReadReferral(LOMBOK_OFFICER, "r1"), AcknowledgeReferral(LOMBOK_OFFICER, "r1", later(1))):
        handler = h.read_referral if isinstance(command, ReadReferral) else h.acknowledge_referral
        assert (await refused(uow, handler, command)).kind is ErrorKind.NOT_FOUND
    assert await execute(uow, h.search_referrals, SearchReferrals(LOMBOK_OFFICER)) == []


async def test_the_whole_lifecycle_keeps_who_and_when_and_publishes_each_step() -> None:
    uow = await world()
    await execute(uow, h.issue_referral, issue(service_types=(SCHOOL, PSYCHOSOCIAL)))
    await execute(uow, h.acknowledge_referral, AcknowledgeReferral(PROVIDER, "r1", later(1)))
    await execute(uow, h.accept_referral, AcceptReferral(PROVIDER, "r1", later(2)))
    await execute(uow, h.start_service, StartService(PROVIDER, "r1", later(3)))
    await execute(uow, h.record_service, RecordService(OFFICER, "r1", later(4), service_type=SCHOOL,
                                                       delivered_on=dt.date(2026, 3, 2)))
    done = await execute(uow, h.complete_referral, CompleteReferral(OFFICER, "r1", later(5)))
    assert [(s.status, s.by, s.at) for s in done.history] == [
        (ReferralStatus.ISSUED, OFFICER.subject, AT), (ReferralStatus.ACKNOWLEDGED, PROVIDER.subject, later(1)),
        (ReferralStatus.ACCEPTED, PROVIDER.subject, later(2)), (ReferralStatus.IN_SERVICE, PROVIDER.subject, later(3)),
        (ReferralStatus.COMPLETED, OFFICER.subject, later(5))]
    assert [type(e).__name__ for e in uow.published] == [
        "ReferralIssuedV1", "ReferralAcknowledgedV1", "ReferralAcceptedV1", "ReferralServiceStartedV1",
        "ReferralServiceRecordedV1", "ReferralCompletedV1"]
    assert done.version == 6


async def test_illegal_moves_are_409_naming_the_state() -> None:
    uow = await world()
    await execute(uow, h.issue_referral, issue())
    error = await refused(uow, h.accept_referral, AcceptReferral(OFFICER, "r1", later(1)))
    assert (error.kind, error.field) == (ErrorKind.CONFLICT, "status")
    assert error.reason == "cannot accept: the status is issued"
    await execute(uow, h.acknowledge_referral, AcknowledgeReferral(OFFICER, "r1", later(1)))
    await execute(uow, h.accept_referral, AcceptReferral(OFFICER, "r1", later(2)))
    error = await refused(uow, h.complete_referral, CompleteReferral(OFFICER, "r1", later(3)))
    assert error.reason == "cannot complete: the status is accepted"
    await execute(uow, h.start_service, StartService(OFFICER, "r1", later(3)))
    error = await refused(uow, h.complete_referral, CompleteReferral(OFFICER, "r1", later(4)))
    assert (error.field, error.reason) == ("service_records", "completion needs at least one service record")


async def test_a_stale_if_match_is_412_and_changes_nothing() -> None:
    uow = await world()
    await execute(uow, h.issue_referral, issue())
    error = await refused(uow, h.acknowledge_referral, AcknowledgeReferral(OFFICER, "r1", later(1), 7))
    assert (error.kind, error.field) == (ErrorKind.STALE, "If-Match")
    moved = await execute(uow, h.acknowledge_referral, AcknowledgeReferral(OFFICER, "r1", later(1), 1))
    assert moved.version == 2


async def test_a_decline_goes_to_the_queue_and_a_re_referral_takes_it_out_linked() -> None:
    uow = await world()
    await execute(uow, h.issue_referral, issue())
    await execute(uow, h.acknowledge_referral, AcknowledgeReferral(PROVIDER, "r1", later(1)))
    declined = await execute(uow, h.decline_referral, DeclineReferral(PROVIDER, "r1", later(2),
                                                                       reason=DeclineReason.NO_CAPACITY))
    assert declined.history[-1].reason == "no_capacity"
    assert uow.published[-1] == wire.ReferralDeclinedV1(referral_id="r1", provider_id="lpa", by=PROVIDER.subject,
                                                        at=later(2), reason=wire.DeclineReason.NO_CAPACITY)
    [queued] = await execute(uow, h.read_district_queue, ReadDistrictQueue(OFFICER))
    assert (queued.referral.referral_id, queued.reason) == ("r1", QueueReason.DECLINED)
    follow = await execute(uow, h.issue_referral, issue(referral_id="r2", provider_id="lpa2", at=later(3),
                                                         previous_referral_id="r1"))
    assert follow.previous_referral_id == "r1"
    assert await execute(uow, h.read_district_queue, ReadDistrictQueue(OFFICER)) == []
    again = await refused(uow, h.issue_referral, issue(referral_id="r3", previous_referral_id="r2", at=later(4)))
    assert (again.kind, again.field) == (ErrorKind.CONFLICT, "previous_referral")


async def test_a_district_revocation_needs_a_district_caller_is_audited_and_tells_the_provider() -> None:
    uow = await world()
    await execute(uow, h.issue_referral, issue())
    forbidden = await refused(uow, h.revoke_referral, RevokeReferral(PROVIDER, "r1", later(1), note="x"))
    assert forbidden.kind is ErrorKind.FORBIDDEN
    revoked = await execute(uow, h.revoke_referral, RevokeReferral(OFFICER, "r1", later(1), note="family moved"))
    assert revoked.status is ReferralStatus.REVOKED
    assert uow.published[-1].reason is wire.RevocationReason.DISTRICT_DECISION  # type: ignore[attr-defined]
    assert "family moved" not in uow.published[-1].model_dump_json()
    assert ("revoke", "family moved") in [(a.action, a.reason) for a in uow.audited]


async def test_reads_and_searches_are_audited_per_referral() -> None:
    uow = await world()
    await execute(uow, h.issue_referral, issue())
    await execute(uow, h.issue_referral, issue(referral_id="r2", service_types=(PSYCHOSOCIAL,), at=later(1)))
    found = await execute(uow, h.search_referrals, SearchReferrals(OFFICER, status=ReferralStatus.ISSUED,
                                                                    reason="case review"))
    assert [r.referral_id for r in found] == ["r2", "r1"]  # newest first
    await execute(uow, h.read_referral, ReadReferral(OFFICER, "r1", "check"))
    reads = [(a.action, a.resource_ids, a.reason) for a in uow.audited if a.action in {"search", "read"}]
    assert reads == [("search", ("r2", "r1"), "case review"), ("read", ("r1",), "check")]


async def test_a_withdrawal_revokes_the_childs_open_referrals_only() -> None:
    uow = await world()
    await execute(uow, h.issue_referral, issue())
    await execute(uow, h.issue_referral, issue(referral_id="r2", service_types=(PSYCHOSOCIAL,)))
    await execute(uow, h.revoke_referral, RevokeReferral(OFFICER, "r2", later(1), note="duplicate"))
    revoked = await execute(uow, h.record_consent_decisions,
                            RecordConsentDecisions((ConsentState("c1", False, later(2)),), later(3)))
    assert revoked == 1
    event = uow.published[-1]
    assert isinstance(event, wire.ReferralRevokedV1)
    assert (event.referral_id, event.reason, event.by) == ("r1", wire.RevocationReason.CONSENT_WITHDRAWN, "system")


async def test_consent_newest_recording_wins_whatever_the_arrival_order() -> None:
    uow = await world(consent=False)
    given, withdrawn = ConsentState("c1", True, later(1)), ConsentState("c1", False, AT)
    await execute(uow, h.record_consent_decisions, RecordConsentDecisions((given, withdrawn), later(2)))
    async with uow:
        assert await uow.consents.get("c1") == given
    await execute(uow, h.issue_referral, issue(at=later(2)))
    again = await execute(uow, h.record_consent_decisions, RecordConsentDecisions((withdrawn,), later(3)))
    assert again == 0  # an older withdrawal arriving late revokes nothing


async def test_a_failed_step_rolls_back_everything() -> None:
    uow = await world()
    await execute(uow, h.issue_referral, issue())
    await refused(uow, h.accept_referral, AcceptReferral(OFFICER, "r1", later(1)))
    async with uow:
        stored = await uow.referrals.get("r1")
    assert isinstance(stored, Referral)
    assert (stored.status, stored.version) == (ReferralStatus.ISSUED, 1)
    assert len(uow.published) == 1
