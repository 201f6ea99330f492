"""The referral aggregate: the lifecycle step by step, illegal moves, consent, re-referral and revocation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from referral.domain import events as ev
from referral.domain.consent import ConsentRequired, RecordedConsent, consent_basis
from referral.domain.eligibility import Ineligible, Rule
from referral.domain.errors import Conflict, Invalid, InvalidTransition
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, RevocationReason, ServiceRecord
from referral.domain.overrides import Override
from referral.domain.providers import Provider
from referral.domain.referrals import Referral
from simpul_platform.errors import ErrorKind

Request = Callable[..., ReferralRequest]
SCHOOL = "child.school_re_entry"
LATER = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)


def record(service_type: str = SCHOOL, by: str = "provider-staff") -> ServiceRecord:
    return ServiceRecord(service_type, dt.date(2026, 3, 3), by, LATER, "enrolled in grade 5")


def in_service(referral: Referral) -> Referral:
    referral.acknowledge("provider-staff", LATER)
    referral.accept("provider-staff", LATER)
    referral.start_service("provider-staff", LATER)
    return referral


def test_issuing_announces_the_referral(provider: Provider, request_for: Request) -> None:
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    referral = Referral.issue(request_for(service_types=(SCHOOL, "child.psychosocial_support")), provider, "o", at)
    assert (referral.status, referral.issued_at, referral.person_id) == (ReferralStatus.ISSUED, at, "p1")
    assert referral.events == [ev.ReferralIssued(
        referral_id="r1", provider_id="lpa-jember", by="o", at=at, child_id="c1", person_id="p1", district="35.09",
        service_types=(SCHOOL, "child.psychosocial_support"), consent_overridden=False, previous_referral_id=None)]


def test_the_whole_loop_keeps_who_and_when_for_every_step(issued: Referral) -> None:
    in_service(issued)
    issued.record_service(record())
    issued.complete("provider-staff", LATER)
    assert [(step.status, step.by) for step in issued.history] == [
        ("issued", "officer-jember"), ("acknowledged", "provider-staff"), ("accepted", "provider-staff"),
        ("in_service", "provider-staff"), ("completed", "provider-staff")]
    assert [type(event) for event in issued.events] == [ev.ReferralAcknowledged, ev.ReferralAccepted,
                                                        ev.ServiceStarted, ev.ServiceRecorded, ev.ReferralCompleted]


def test_a_decline_keeps_its_reason(issued: Referral) -> None:
    issued.acknowledge("provider-staff", LATER)
    issued.decline("no places until July", "provider-staff", LATER)
    assert (issued.status, issued.history[-1].reason) == (ReferralStatus.DECLINED, "no places until July")
    assert issued.events[-1] == ev.ReferralDeclined(referral_id="r1", provider_id="lpa-jember", by="provider-staff",
                                                    at=LATER, reason="no places until July")


def test_a_decline_needs_a_reason(issued: Referral) -> None:
    issued.acknowledge("provider-staff", LATER)
    with pytest.raises(Invalid):
        issued.decline(" ", "provider-staff", LATER)


@pytest.mark.parametrize(("setup", "move"), [
    ([], "accept"), ([], "decline"), ([], "start_service"), ([], "complete"),
    (["acknowledge"], "acknowledge"), (["acknowledge"], "start_service"),
    (["acknowledge", "accept"], "decline"), (["acknowledge", "accept"], "complete"),
])
def test_an_illegal_move_is_a_conflict_naming_the_current_state(issued: Referral, setup: list[str],
                                                                move: str) -> None:
    for step in setup:
        getattr(issued, step)("provider-staff", LATER)
    current = issued.status
    take = (lambda by, at: issued.decline("full", by, at)) if move == "decline" else getattr(issued, move)
    with pytest.raises(InvalidTransition) as refused:
        take("provider-staff", LATER)
    assert (refused.value.kind, refused.value.current) == (ErrorKind.CONFLICT, current)
    assert f"the status is {current}" in refused.value.reason
    assert issued.status is current


@pytest.mark.parametrize("closing", ["complete", "decline", "revoke", "expire"])
def test_a_closed_referral_takes_no_further_step(issued: Referral, closing: str) -> None:
    if closing == "complete":
        in_service(issued)
        issued.record_service(record())
        issued.complete("provider-staff", LATER)
    elif closing == "decline":
        issued.acknowledge("provider-staff", LATER)
        issued.decline("full", "provider-staff", LATER)
    elif closing == "revoke":
        issued.revoke(RevocationReason.DISTRICT_DECISION, "wrong child", "officer", LATER)
    else:
        issued.expire("r1/expiry", LATER)
    with pytest.raises(InvalidTransition):
        issued.revoke(RevocationReason.DISTRICT_DECISION, "", "officer", LATER)
    with pytest.raises(InvalidTransition):
        issued.record_service(record())


def test_completion_needs_at_least_one_service_record(issued: Referral) -> None:
    in_service(issued)
    with pytest.raises(Conflict, match="at least one service record") as refused:
        issued.complete("provider-staff", LATER)
    assert refused.value.field == "service_records"


def test_recording_a_service_when_accepted_starts_the_service(issued: Referral) -> None:
    issued.acknowledge("provider-staff", LATER)
    issued.accept("provider-staff", LATER)
    issued.record_service(record(by="officer-jember"))
    assert issued.status is ReferralStatus.IN_SERVICE
    assert issued.history[-1].by == "officer-jember"
    assert [type(event) for event in issued.events[-2:]] == [ev.ServiceStarted, ev.ServiceRecorded]


def test_several_services_are_recorded_but_only_the_referrals_own(issued: Referral) -> None:
    in_service(issued)
    issued.record_service(record())
    issued.record_service(record())
    assert len(issued.service_records) == 2
    with pytest.raises(Invalid, match="not a service of this referral"):
        issued.record_service(record("child.legal_aid"))


@pytest.mark.parametrize("steps", [[], ["acknowledge"], ["acknowledge", "accept"],
                                   ["acknowledge", "accept", "start_service"]])
def test_any_open_referral_may_be_revoked_with_a_reason(issued: Referral, steps: list[str]) -> None:
    for step in steps:
        getattr(issued, step)("provider-staff", LATER)
    issued.revoke(RevocationReason.DISTRICT_DECISION, "family moved", "officer", LATER)
    assert (issued.status, issued.history[-1].reason) == (ReferralStatus.REVOKED, "district_decision")
    assert issued.events[-1] == ev.ReferralRevoked(referral_id="r1", provider_id="lpa-jember", by="officer",
                                                   at=LATER, reason="district_decision", note="family moved")


def test_consent_withdrawal_revokes_an_open_referral_once(issued: Referral) -> None:
    assert issued.revoke_if_open(RevocationReason.CONSENT_WITHDRAWN, LATER)
    assert not issued.revoke_if_open(RevocationReason.CONSENT_WITHDRAWN, LATER)
    assert (issued.status, issued.history[-1].by) == (ReferralStatus.REVOKED, "system")
    assert len(issued.events) == 1


def test_a_case_closure_revokes_only_where_the_district_says_so(issued: Referral) -> None:
    issued.record_case_status(True, LATER, revoke_on_closure=False)
    assert (issued.case_closed, issued.status) == (True, ReferralStatus.ISSUED)
    issued.record_case_status(False, LATER, revoke_on_closure=True)
    assert not issued.case_closed
    issued.record_case_status(True, LATER, revoke_on_closure=True)
    assert (issued.status, issued.history[-1].reason) == (ReferralStatus.REVOKED, "case_closed")


def test_no_consent_and_no_override_is_refused() -> None:
    with pytest.raises(ConsentRequired) as refused:
        consent_basis(None, None)
    assert (refused.value.kind, refused.value.field) == (ErrorKind.CONFLICT, "consent")


def test_recorded_consent_comes_first_then_an_officers_override() -> None:
    given = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    override = Override("officer-jember", "guardian unreachable, child in danger")
    assert consent_basis(given, override) == RecordedConsent(given)
    assert consent_basis(None, override) is override


def test_an_override_is_announced_as_such(provider: Provider, request_for: Request) -> None:
    override = Override("officer-jember", "guardian unreachable, child in danger")
    referral = Referral.issue(request_for(consent=override), provider, "officer-jember", LATER)
    issued = referral.events[0]
    assert isinstance(issued, ev.ReferralIssued)
    assert issued.consent_overridden


def test_an_ineligible_provider_gets_no_referral(provider: Provider, request_for: Request) -> None:
    provider.suspend("audit", "officer", LATER)
    with pytest.raises(Ineligible) as refused:
        Referral.issue(request_for(), provider, "officer-jember", LATER)
    assert refused.value.rule is Rule.PROVIDER_ACTIVE


@pytest.mark.parametrize(("changes", "field"), [({"service_types": ()}, "service_types"),
                                                ({"service_types": (SCHOOL, SCHOOL)}, "service_types"),
                                                ({"service_types": ("school",)}, "service_type"),
                                                ({"district": "35.09.11.2007"}, "district")])
def test_a_referral_asks_for_distinct_services_in_a_district(request_for: Request, changes: dict[str, object],
                                                             field: str) -> None:
    with pytest.raises(Invalid) as refused:
        request_for(**changes)
    assert refused.value.field == field


@pytest.mark.parametrize("closing", ["decline", "expire", "revoke"])
def test_a_re_referral_links_to_the_referral_it_follows(issued: Referral, provider: Provider, request_for: Request,
                                                        closing: str) -> None:
    if closing == "decline":
        issued.acknowledge("provider-staff", LATER)
        issued.decline("full", "provider-staff", LATER)
    elif closing == "expire":
        issued.expire("r1/expiry", LATER)
    else:
        issued.revoke_if_open(RevocationReason.PROVIDER_SUSPENDED, LATER)
    again = Referral.issue(request_for(referral_id="r2"), provider, "officer-jember", LATER, previous=issued)
    assert again.previous_referral_id == "r1"
    issued_event = again.events[0]
    assert isinstance(issued_event, ev.ReferralIssued)
    assert issued_event.previous_referral_id == "r1"


def test_an_open_or_completed_referral_cannot_be_re_referred(issued: Referral, provider: Provider,
                                                             request_for: Request) -> None:
    with pytest.raises(InvalidTransition, match="the previous_referral is issued"):
        Referral.issue(request_for(referral_id="r2"), provider, "o", LATER, previous=issued)
    in_service(issued)
    issued.record_service(record())
    issued.complete("provider-staff", LATER)
    with pytest.raises(InvalidTransition, match="completed"):
        Referral.issue(request_for(referral_id="r2"), provider, "o", LATER, previous=issued)


def test_a_re_referral_is_of_the_same_child(issued: Referral, provider: Provider, request_for: Request) -> None:
    issued.expire("r1/expiry", LATER)
    with pytest.raises(Invalid, match="same child"):
        Referral.issue(request_for(referral_id="r2", child_id="c2"), provider, "o", LATER, previous=issued)


def test_every_step_names_who_and_when_in_absolute_time(issued: Referral) -> None:
    with pytest.raises(Invalid):
        issued.acknowledge(" ", LATER)
    with pytest.raises(Invalid):
        issued.acknowledge("provider-staff", dt.datetime(2026, 3, 3, 10, 0))
    assert issued.status is ReferralStatus.ISSUED
