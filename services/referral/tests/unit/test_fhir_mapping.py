"""The FHIR mapping: every lifecycle status gives a Task and a ServiceRequest that fhir.resources (R4B) accepts
after a JSON round trip, with the Gravity status, our finer status in businessStatus and a statusReason exactly on
rejected, cancelled and failed; the child is only its pseudonymous person id; a Task status asks for the moves the
state machine allows a provider, and nothing else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from referral.adapters import fhir_mapping as fm
from referral.domain.consent import RecordedConsent
from referral.domain.errors import Invalid, InvalidTransition
from referral.domain.lifecycle import (
    DeclineReason,
    ReferralRequest,
    ReferralStatus,
    RevocationReason,
    ServiceRecord,
    Step,
)
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral

S = ReferralStatus
AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SCHOOL, KIT = "child.school_re_entry", "household.social_assistance"
REFERRAL_ID = "ref_" + "ab" * 16


def later(hours: int) -> dt.datetime:
    return AT + dt.timedelta(hours=hours)


def issued(service_types: tuple[str, ...] = (SCHOOL,)) -> Referral:
    request = ReferralRequest(REFERRAL_ID, "chd_1", "per_1", "35.09", service_types, RecordedConsent(AT))
    return Referral(request, "prv_" + "cd" * 16, [Step(S.ISSUED, "officer-jember", AT)], PersonLink("per_1"),
                    version=1)


def _acknowledged(r: Referral) -> None:
    r.acknowledge("lpa", later(1))


def _accepted(r: Referral) -> None:
    _acknowledged(r)
    r.accept("lpa", later(2))


def _declined(r: Referral) -> None:
    _acknowledged(r)
    r.decline("no_capacity", "lpa", later(2))


def _served(r: Referral) -> None:
    _accepted(r)
    r.record_service(ServiceRecord(SCHOOL, AT.date(), "lpa", later(3)))


def _completed(r: Referral) -> None:
    _served(r)
    r.complete("lpa", later(4))


def _revoked(r: Referral) -> None:
    r.revoke(RevocationReason.CONSENT_WITHDRAWN, "", "system", later(1))


def _expired(r: Referral) -> None:
    r.expire(f"{REFERRAL_ID}/expiry", later(5))


STEPS: dict[ReferralStatus, Callable[[Referral], None]] = {
    S.ISSUED: lambda r: None, S.ACKNOWLEDGED: _acknowledged, S.ACCEPTED: _accepted, S.DECLINED: _declined,
    S.IN_SERVICE: _served, S.COMPLETED: _completed, S.REVOKED: _revoked, S.EXPIRED: _expired}


LAST_CHANGE = {S.ISSUED: AT, S.ACKNOWLEDGED: later(1), S.ACCEPTED: later(2), S.DECLINED: later(2),
               S.IN_SERVICE: later(3), S.COMPLETED: later(4), S.REVOKED: later(1), S.EXPIRED: later(5)}


def in_status(status: ReferralStatus) -> Referral:
    referral = issued()
    STEPS[status](referral)
    assert referral.status is status
    return referral


@pytest.mark.parametrize("status", list(S))
def test_every_status_maps_to_resources_that_validate_after_a_json_round_trip(status: ReferralStatus) -> None:
    referral = in_status(status)
    task = Task.model_validate_json(fm.task(referral, later(72)).model_dump_json())
    request = ServiceRequest.model_validate_json(fm.service_request(referral).model_dump_json())
    assert task.status == fm.TASK_STATUS[status]
    assert [c.code for c in task.businessStatus.coding] == [str(status)]
    assert (task.intent, task.focus.reference, task.owner.reference) == (
        "order", "ServiceRequest/ref-" + "ab" * 16, "Organization/prv-" + "cd" * 16)
    assert (task.identifier[0].value, task.id) == (REFERRAL_ID, fm.fhir_id(REFERRAL_ID))
    assert task.lastModified == task.meta.lastUpdated == LAST_CHANGE[status]
    assert task.restriction.period.end == later(72)
    assert task.meta.versionId == "1"
    assert (request.intent, request.subject.identifier.value, request.code.coding[0].code) == ("order", "per_1",
                                                                                               SCHOOL)


def test_gravity_statuses_and_a_reason_exactly_where_one_is_required() -> None:
    statuses = {status: fm.task(in_status(status), None) for status in S}
    assert {s: t.status for s, t in statuses.items()} == {
        S.ISSUED: "requested", S.ACKNOWLEDGED: "requested", S.ACCEPTED: "accepted", S.DECLINED: "rejected",
        S.IN_SERVICE: "in-progress", S.COMPLETED: "completed", S.REVOKED: "cancelled", S.EXPIRED: "failed"}
    reasons = {t.status: [(c.system, c.code) for c in t.statusReason.coding] for t in statuses.values()
               if t.statusReason is not None}
    assert reasons == {"rejected": [(fm.DECLINE_REASON, "no_capacity")],
                       "cancelled": [(fm.REVOCATION_REASON, "consent_withdrawn")],
                       "failed": [(fm.REFERRAL_STATUS, "expired")]}


def test_the_child_is_its_pseudonymous_person_id_only() -> None:
    referral = in_status(S.COMPLETED)
    text = fm.task(referral, None).model_dump_json() + fm.service_request(referral).model_dump_json()
    assert "per_1" in text
    assert "chd_1" not in text  # not even the registry's child id: a person reference is enough
    subject = fm.service_request(referral).subject
    assert (subject.reference, subject.type, subject.identifier.system) == (None, "Patient", fm.PERSON_ID)


def test_every_service_type_is_listed_and_their_levels_are_the_categories() -> None:
    request = fm.service_request(issued((SCHOOL, KIT)))
    assert [d.coding[0].code for d in request.orderDetail] == [SCHOOL, KIT]
    assert [c.coding[0].code for c in request.category] == ["child", "household"]


def test_an_in_service_task_has_its_execution_start_and_its_outputs() -> None:
    task = fm.task(in_status(S.COMPLETED), None)
    assert (task.executionPeriod.start, task.executionPeriod.end) == (later(3), later(4))
    assert [o.valueCodeableConcept.coding[0].code for o in task.output] == [SCHOOL]
    assert task.restriction is None


def test_fhir_ids_carry_our_ids_both_ways() -> None:
    assert fm.fhir_id(REFERRAL_ID) == "ref-" + "ab" * 16
    assert fm.our_id(fm.fhir_id(REFERRAL_ID)) == REFERRAL_ID
    assert fm.our_id("r1") == "r1"
    with pytest.raises(Invalid):
        fm.fhir_id("a:b")


def wanted(status: str, reason: str | None = None, business: str | None = None) -> Task:
    task = fm.task(issued(), None).model_dump(mode="json") | {"status": status}
    task.pop("statusReason", None)
    if reason is not None:
        task["statusReason"] = {"coding": [{"system": fm.DECLINE_REASON, "code": reason}]}
    if business is not None:
        task["businessStatus"] = {"coding": [{"system": fm.REFERRAL_STATUS, "code": business}]}
    return Task.model_validate(task)


M = fm.Move


@pytest.mark.parametrize(("current", "task", "moves"), [
    (S.ISSUED, wanted("requested"), ()),
    (S.ISSUED, wanted("requested", business="acknowledged"), (M.ACKNOWLEDGE,)),
    (S.ISSUED, wanted("received"), (M.ACKNOWLEDGE,)),
    (S.ACKNOWLEDGED, wanted("requested"), ()),
    (S.ISSUED, wanted("accepted"), (M.ACKNOWLEDGE, M.ACCEPT)),
    (S.ACKNOWLEDGED, wanted("accepted"), (M.ACCEPT,)),
    (S.ISSUED, wanted("rejected", "no_capacity"), (M.ACKNOWLEDGE, M.DECLINE)),
    (S.ACCEPTED, wanted("in-progress"), (M.START,)),
    (S.IN_SERVICE, wanted("completed"), (M.COMPLETE,)),
    (S.COMPLETED, wanted("completed"), ()),
])
def test_a_task_status_asks_for_the_moves_the_state_machine_allows(current: ReferralStatus, task: Task,
                                                                   moves: tuple[fm.Move, ...]) -> None:
    assert fm.status_change(current, task).moves == moves


def test_a_rejection_carries_its_decline_reason() -> None:
    change = fm.status_change(S.ACKNOWLEDGED, wanted("rejected", "family_refused"))
    assert change.decline_reason is DeclineReason.FAMILY_REFUSED


@pytest.mark.parametrize(("current", "status"), [
    (S.ISSUED, "completed"), (S.ISSUED, "in-progress"), (S.ACCEPTED, "completed"), (S.ACCEPTED, "rejected"),
    (S.COMPLETED, "accepted"), (S.ACKNOWLEDGED, "cancelled"), (S.ISSUED, "failed"), (S.DECLINED, "requested"),
])
def test_a_move_the_state_machine_refuses_names_the_status_and_both_states(current: ReferralStatus,
                                                                           status: str) -> None:
    with pytest.raises(InvalidTransition) as refused:
        fm.status_change(current, wanted(status, "other"))
    assert refused.value.field == "Task.status"
    assert f"move to {status}" in refused.value.reason
    assert f"is {fm.TASK_STATUS[current]} ({current})" in refused.value.reason


@pytest.mark.parametrize(("task", "field"), [
    (wanted("rejected"), "Task.statusReason"),
    (wanted("rejected", "bored"), "Task.statusReason"),
    (wanted("on-hold"), "Task.status"),
    (wanted("bogus"), "Task.status"),
])
def test_an_update_without_a_reason_or_with_an_unknown_status_is_invalid(task: Task, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        fm.status_change(S.ACKNOWLEDGED, task)
    assert refused.value.field == field
