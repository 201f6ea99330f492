"""A referral as FHIR R4B resources, and a Task a provider sends back as the lifecycle moves it asks for.

Pure functions (docs/fhir.md explains the choices). Each referral is two resources, the Gravity SDOH Clinical Care
closed-loop pattern: a `ServiceRequest` (what is asked for: the service types, for whom, by which district) and a
`Task` (its fulfilment by the provider: `owner`, `status`, the deadline in `restriction.period.end`). The child is a
logical reference to its pseudonymous person id, never a name, NIK or KK.

Status map (Gravity's referral Task status value set has no `received`, so an acknowledged referral stays
`requested` with `businessStatus` saying so; `businessStatus` always carries our finer status):
issued, acknowledged -> requested; accepted -> accepted; declined -> rejected; in_service -> in-progress;
completed -> completed; revoked -> cancelled; expired -> failed. `statusReason` is always set on rejected (the
decline reason), cancelled (the revocation reason) and failed (expired).

FHIR ids allow no underscore: the resources' id is the referral id with `_` written `-` (`ref_3f…` -> `ref-3f…`);
`identifier` carries the referral id as it is.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from referral.domain.commands.fhir import Move, StatusChange
from referral.domain.errors import Invalid, InvalidTransition
from referral.domain.lifecycle import AWAITING_ANSWER, DeclineReason, ReferralStatus
from referral.domain.referrals import Referral
from referral.domain.service_types import level_of

S = ReferralStatus
FHIR_VERSION = "4.3.0"
"""R4B: the release whose Task and ServiceRequest are R4's (docs/fhir.md)."""
BASE = "https://simpul.id/fhir"
REFERRAL_ID, PERSON_ID, PROVIDER_ID = f"{BASE}/sid/referral-id", f"{BASE}/sid/person-id", f"{BASE}/sid/provider-id"
REGION = f"{BASE}/sid/kemendagri-region"
REFERRAL_STATUS, DECLINE_REASON = f"{BASE}/CodeSystem/referral-status", f"{BASE}/CodeSystem/decline-reason"
REVOCATION_REASON = f"{BASE}/CodeSystem/revocation-reason"
SERVICE_TYPE, SERVICE_LEVEL = f"{BASE}/CodeSystem/service-type", f"{BASE}/CodeSystem/service-level"
TASK_OUTPUT = f"{BASE}/CodeSystem/task-output"
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"

TASK_STATUS: Mapping[ReferralStatus, str] = {
    S.ISSUED: "requested", S.ACKNOWLEDGED: "requested", S.ACCEPTED: "accepted", S.DECLINED: "rejected",
    S.IN_SERVICE: "in-progress", S.COMPLETED: "completed", S.REVOKED: "cancelled", S.EXPIRED: "failed"}
TASK_STATUSES = frozenset({"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
                           "in-progress", "on-hold", "failed", "completed", "entered-in-error"})
"""FHIR's task-status code list (the model checks only the code's form)."""
SERVICE_REQUEST_STATUS: Mapping[ReferralStatus, str] = {
    S.ISSUED: "active", S.ACKNOWLEDGED: "active", S.ACCEPTED: "active", S.IN_SERVICE: "active",
    S.COMPLETED: "completed", S.DECLINED: "revoked", S.REVOKED: "revoked", S.EXPIRED: "revoked"}
_ID = re.compile(r"^[A-Za-z0-9.-]{1,64}$")
_OURS = re.compile(r"^[a-z]+-[0-9a-f]{32}$")


def fhir_id(our_id: str) -> str:
    """Our id (`ref_<hex>`) as a FHIR id (`ref-<hex>`)."""
    candidate = our_id.replace("_", "-")
    if not _ID.match(candidate):
        raise Invalid("id", "not an id FHIR can carry")
    return candidate


def our_id(fhir_resource_id: str) -> str:
    """The referral or provider id a FHIR id names (the inverse of `fhir_id` for the ids we issue)."""
    return fhir_resource_id.replace("-", "_", 1) if _OURS.match(fhir_resource_id) else fhir_resource_id


def last_modified(referral: Referral) -> dt.datetime:
    """When the referral last took a step or recorded a service."""
    return max([referral.history[-1].at, *(r.recorded_at for r in referral.service_records)])


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code} | ({"display": display} if display else {})
    return {"coding": [coding]}


def _identifier(system: str, value: str) -> dict[str, str]:
    return {"system": system, "value": value}


def _child(referral: Referral) -> dict[str, Any]:
    return {"type": "Patient", "identifier": _identifier(PERSON_ID, referral.person_id)}


def _district(referral: Referral) -> dict[str, Any]:
    district = referral.request.district
    return {"type": "Organization", "identifier": _identifier(REGION, district), "display": f"District {district}"}


def _provider(referral: Referral) -> dict[str, Any]:
    return {"reference": f"Organization/{fhir_id(referral.provider_id)}", "type": "Organization",
            "identifier": _identifier(PROVIDER_ID, referral.provider_id)}


def _meta(referral: Referral) -> dict[str, Any]:
    return {"versionId": str(referral.version), "lastUpdated": last_modified(referral)}


def service_request(referral: Referral) -> ServiceRequest:
    """The referral as what it asks for: every service type (the first as `code`), for whom, by which district."""
    types = referral.request.service_types
    levels = sorted({str(level_of(code)) for code in types})
    resource: dict[str, Any] = {
        "id": fhir_id(referral.referral_id), "meta": _meta(referral),
        "identifier": [_identifier(REFERRAL_ID, referral.referral_id)],
        "status": SERVICE_REQUEST_STATUS[referral.status], "intent": "order",
        "category": [_coding(SERVICE_LEVEL, level) for level in levels],
        "code": _coding(SERVICE_TYPE, types[0]), "orderDetail": [_coding(SERVICE_TYPE, code) for code in types],
        "subject": _child(referral), "authoredOn": referral.issued_at, "requester": _district(referral),
        "performer": [_provider(referral)]}
    if referral.previous_referral_id:
        resource["replaces"] = [{"reference": f"ServiceRequest/{fhir_id(referral.previous_referral_id)}"}]
    return ServiceRequest.model_validate(resource)


def task(referral: Referral, deadline: dt.datetime | None) -> Task:
    """The referral's fulfilment by its provider; `deadline` is the answer due now, if one still runs."""
    resource: dict[str, Any] = {
        "id": fhir_id(referral.referral_id), "meta": _meta(referral),
        "identifier": [_identifier(REFERRAL_ID, referral.referral_id)],
        "status": TASK_STATUS[referral.status],
        "businessStatus": _coding(REFERRAL_STATUS, str(referral.status)),
        "intent": "order", "code": _coding(TASK_CODE, "fulfill", "Fulfill the focal request"),
        "focus": {"reference": f"ServiceRequest/{fhir_id(referral.referral_id)}", "type": "ServiceRequest"},
        "for": _child(referral), "authoredOn": referral.issued_at, "lastModified": last_modified(referral),
        "requester": _district(referral), "owner": _provider(referral)}
    reason = status_reason(referral)
    if reason is not None:
        resource["statusReason"] = reason
    if deadline is not None:
        resource["restriction"] = {"period": {"end": deadline}}
    execution = _execution(referral)
    if execution:
        resource["executionPeriod"] = execution
    if referral.service_records:
        resource["output"] = [{"type": _coding(TASK_OUTPUT, "service-delivered", "Service delivered"),
                               "valueCodeableConcept": _coding(SERVICE_TYPE, r.service_type)
                               | {"text": f"delivered on {r.delivered_on.isoformat()}"}}
                              for r in referral.service_records]
    return Task.model_validate(resource)


def status_reason(referral: Referral) -> dict[str, Any] | None:
    """Why a closed referral closed as it did: the decline or revocation reason code, or its expiry."""
    step = referral.history[-1]
    if step.status is S.DECLINED:
        return _coding(DECLINE_REASON, step.reason)
    if step.status is S.REVOKED:
        return _coding(REVOCATION_REASON, step.reason)
    if step.status is S.EXPIRED:
        return _coding(REFERRAL_STATUS, "expired", "No answer within the response time limit")
    return None


def _execution(referral: Referral) -> dict[str, dt.datetime]:
    moments = {step.status: step.at for step in referral.history}
    period = {"start": moments.get(S.IN_SERVICE), "end": moments.get(S.COMPLETED)}
    return {key: at for key, at in period.items() if at is not None}


PATHS: Mapping[tuple[ReferralStatus, ReferralStatus], tuple[Move, ...]] = {
    (S.ISSUED, S.ACKNOWLEDGED): (Move.ACKNOWLEDGE,),
    (S.ISSUED, S.ACCEPTED): (Move.ACKNOWLEDGE, Move.ACCEPT),
    (S.ISSUED, S.DECLINED): (Move.ACKNOWLEDGE, Move.DECLINE),
    (S.ACKNOWLEDGED, S.ACCEPTED): (Move.ACCEPT,),
    (S.ACKNOWLEDGED, S.DECLINED): (Move.DECLINE,),
    (S.ACCEPTED, S.IN_SERVICE): (Move.START,),
    (S.IN_SERVICE, S.COMPLETED): (Move.COMPLETE,),
}
"""What a provider may ask through a Task. Gravity knows no acknowledgement: accepting or rejecting a referral still
issued acknowledges it first (both steps recorded, in one transaction)."""
_WANTED: Mapping[str, ReferralStatus] = {
    "received": S.ACKNOWLEDGED, "accepted": S.ACCEPTED, "rejected": S.DECLINED, "in-progress": S.IN_SERVICE,
    "completed": S.COMPLETED, "cancelled": S.REVOKED, "failed": S.EXPIRED}


def status_change(current: ReferralStatus, wanted: Task) -> StatusChange:
    """The moves the Task's status (and, for `requested`, its businessStatus) asks of a referral now `current`;
    refused (naming Task.status) when the state machine has no such path for a provider."""
    target = _target(current, wanted)
    if target == current:
        return StatusChange(())
    moves = PATHS.get((current, target))
    if moves is None:
        raise InvalidTransition("Task.status", f"{TASK_STATUS[current]} ({current})",
                                f"move to {wanted.status} ({target})")
    return StatusChange(moves, _decline_reason(wanted) if target is S.DECLINED else None)


def _target(current: ReferralStatus, wanted: Task) -> ReferralStatus:
    status = wanted.status or ""
    if status not in TASK_STATUSES:
        raise Invalid("Task.status", "not a code of http://hl7.org/fhir/task-status")
    if status == "requested":
        if _codes(wanted.businessStatus, REFERRAL_STATUS) & {str(S.ACKNOWLEDGED)}:
            return S.ACKNOWLEDGED
        return current if current in AWAITING_ANSWER else S.ISSUED
    target = _WANTED.get(status)
    if target is None:
        raise Invalid("Task.status", f"{status} is not a status of a referral's Task")
    return target


def _decline_reason(wanted: Task) -> DeclineReason:
    codes = _codes(wanted.statusReason, DECLINE_REASON) & set(DeclineReason)
    if len(codes) != 1:
        raise Invalid("Task.statusReason", f"a rejection needs one statusReason coding of {DECLINE_REASON}: "
                                           + ", ".join(DeclineReason))
    return DeclineReason(codes.pop())


def _codes(concept: Any, system: str) -> set[str]:
    """The codes of a CodeableConcept in `system` (or with no system)."""
    codings = getattr(concept, "coding", None) or []
    return {c.code for c in codings if c.code and c.system in (system, None)}

