"""District API: referrals (see `referral.service_layer.handlers.referrals`). Create a referral through the consent
and eligibility gates, take it along its lifecycle (If-Match optional: 412 when stale), read, search and queue the
referrals of the caller's districts (another district's referral is 404). Every read is audited."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from referral.domain.commands.referrals import (
    AcceptReferral,
    AcknowledgeReferral,
    CompleteReferral,
    DeclineReferral,
    IssueReferral,
    ReadDistrictQueue,
    ReadReferral,
    RecordService,
    RevokeReferral,
    SearchReferrals,
    StartService,
)
from referral.domain.lifecycle import ReferralStatus
from referral.domain.referrals import Referral
from referral.entrypoints.http.conditional import expected_version
from referral.entrypoints.http.referral_schemas import (
    OPAQUE_ID,
    DeclineIn,
    QueuedRead,
    ReferralCreate,
    ReferralRead,
    RevokeIn,
    ServiceRecordIn,
    queued_view,
    referral_view,
)
from referral.service_layer.handlers import referrals as handlers
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.auth import Principal, Role, require
from simpul_platform.idempotency import REPLAY_HEADER, Answer, IdempotencyKey, KeyHeader, execute_once, fingerprint
from simpul_platform.unit_of_work import execute

C = TypeVar("C")
R = TypeVar("R")
District = Annotated[Principal, Depends(require(Role.DISTRICT_OFFICER, Role.SERVICE))]
# A provider moves its referrals through /provider (its token reaches only the provider routes).
Actor = Annotated[Principal, Depends(require(Role.DISTRICT_OFFICER, Role.SERVICE))]
ReferralId = Annotated[str, Path(max_length=64, pattern=OPAQUE_ID, description="The referral's id")]
AccessReason = Annotated[str | None, Header(alias="X-Access-Reason", max_length=500)]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=100)]
QueryId = Annotated[str | None, Query(max_length=64, pattern=OPAQUE_ID)]

router = APIRouter(prefix="/referrals", tags=["referrals"])


async def _run(request: Request, handler: Callable[[C, ReferralUnitOfWork], Awaitable[R]], command: C) -> R:
    uow: ReferralUnitOfWork = request.app.state.wiring.unit_of_work()
    result: R = await execute(uow, handler, command)
    return result


def _now(request: Request) -> dt.datetime:
    now: dt.datetime = request.app.state.wiring.clock()
    return now


def _answer(referral: Referral, response: Response) -> ReferralRead:
    response.headers["ETag"] = f'"{referral.version}"'
    return referral_view(referral)


@router.post("", status_code=201, response_model=ReferralRead, summary="Refer a child to a provider",
             responses={201: {"headers": {REPLAY_HEADER: {"description": "true when a retry got the first answer",
                                                          "schema": {"type": "string"}}}}})
async def issue(body: ReferralCreate, principal: District, request: Request,
                idempotency_key: KeyHeader = None) -> Response:
    """Issue a referral: 409 names the consent rule or the eligibility rule that refuses it. With an
    `Idempotency-Key`, a retry gets the first answer instead of a second referral."""
    command = IssueReferral(
        principal, f"ref_{uuid.uuid4().hex}", body.child_id, body.person_id, body.district, body.provider_id,
        tuple(body.service_types), _now(request), body.consent_override_reason, body.capacity_override_reason,
        body.previous_referral_id)
    key = None if idempotency_key is None else IdempotencyKey(
        principal.subject, idempotency_key.strip('"'), fingerprint("POST", "/referrals", body.model_dump(mode="json")))
    wiring = request.app.state.wiring
    outcome = await execute_once(
        wiring.unit_of_work(), handlers.issue_referral, command, key=key, now=_now(request),
        ttl=dt.timedelta(hours=wiring.settings.idempotency_key_hours),
        answer=lambda referral: Answer(201, referral_view(referral).model_dump_json().encode()))
    created = ReferralRead.model_validate_json(outcome.answer.body)
    headers = {"Location": f"/referrals/{created.referral_id}", "ETag": f'"{created.version}"'}
    if outcome.replayed:
        headers[REPLAY_HEADER] = "true"
    return Response(outcome.answer.body, outcome.answer.status, headers, media_type="application/json")


@router.get("", response_model=list[ReferralRead], summary="Search referrals in your districts (audited)")
async def search(principal: District, request: Request, *, reason: AccessReason = None,
                 status: ReferralStatus | None = None, provider_id: QueryId = None, child_id: QueryId = None,
                 person_id: QueryId = None, limit: Annotated[int, Query(ge=1, le=100)] = 50,
                 offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> list[ReferralRead]:
    """The referrals matching every filter given, newest first."""
    command = SearchReferrals(principal, status, provider_id, child_id, person_id, limit, offset, reason)
    return [referral_view(r) for r in await _run(request, handlers.search_referrals, command)]


@router.get("/queue", response_model=list[QueuedRead], summary="The district queue (audited)")
async def queue(principal: District, request: Request, *, reason: AccessReason = None,
                limit: Annotated[int, Query(ge=1, le=100)] = 100) -> list[QueuedRead]:
    """Re-routed, overdue, declined and expired referrals not yet re-referred, oldest first."""
    queued = await _run(request, handlers.read_district_queue, ReadDistrictQueue(principal, limit, reason))
    return [queued_view(q) for q in queued]


@router.get("/{referral_id}", response_model=ReferralRead, summary="Read a referral (audited)")
async def read(referral_id: ReferralId, principal: District, request: Request, response: Response, *,
               reason: AccessReason = None) -> ReferralRead:
    """One referral with its ETag; outside your districts it does not exist (404)."""
    return _answer(await _run(request, handlers.read_referral, ReadReferral(principal, referral_id, reason)),
                   response)


@router.post("/{referral_id}/acknowledge", response_model=ReferralRead, summary="The provider saw it")
async def acknowledge(referral_id: ReferralId, principal: Actor, request: Request, response: Response,
                      if_match: IfMatch = None) -> ReferralRead:
    """issued -> acknowledged; 409 names the state otherwise."""
    command = AcknowledgeReferral(principal, referral_id, _now(request), expected_version(if_match))
    return _answer(await _run(request, handlers.acknowledge_referral, command), response)


@router.post("/{referral_id}/accept", response_model=ReferralRead, summary="The provider will serve the child")
async def accept(referral_id: ReferralId, principal: Actor, request: Request, response: Response,
                 if_match: IfMatch = None) -> ReferralRead:
    """acknowledged -> accepted."""
    command = AcceptReferral(principal, referral_id, _now(request), expected_version(if_match))
    return _answer(await _run(request, handlers.accept_referral, command), response)


@router.post("/{referral_id}/decline", response_model=ReferralRead, summary="The provider will not serve the child")
async def decline(referral_id: ReferralId, body: DeclineIn, principal: Actor, request: Request, *,
                  response: Response, if_match: IfMatch = None) -> ReferralRead:
    """acknowledged -> declined, with a reason code; the referral goes to the district queue."""
    command = DeclineReferral(principal, referral_id, _now(request), expected_version(if_match), reason=body.reason)
    return _answer(await _run(request, handlers.decline_referral, command), response)


@router.post("/{referral_id}/start", response_model=ReferralRead, summary="The provider began serving")
async def start(referral_id: ReferralId, principal: Actor, request: Request, response: Response,
                if_match: IfMatch = None) -> ReferralRead:
    """accepted -> in_service."""
    command = StartService(principal, referral_id, _now(request), expected_version(if_match))
    return _answer(await _run(request, handlers.start_service, command), response)


@router.post("/{referral_id}/services", response_model=ReferralRead, summary="Record a delivered service")
async def record_service(referral_id: ReferralId, body: ServiceRecordIn, principal: Actor, request: Request, *,
                         response: Response, if_match: IfMatch = None) -> ReferralRead:
    """A service of the referral was delivered (on an accepted referral it starts the service)."""
    command = RecordService(principal, referral_id, _now(request), expected_version(if_match),
                            service_type=body.service_type, delivered_on=body.delivered_on, notes=body.notes)
    return _answer(await _run(request, handlers.record_service, command), response)


@router.post("/{referral_id}/complete", response_model=ReferralRead, summary="Close the loop")
async def complete(referral_id: ReferralId, principal: Actor, request: Request, response: Response,
                   if_match: IfMatch = None) -> ReferralRead:
    """in_service -> completed; needs at least one service record."""
    command = CompleteReferral(principal, referral_id, _now(request), expected_version(if_match))
    return _answer(await _run(request, handlers.complete_referral, command), response)


@router.post("/{referral_id}/revoke", response_model=ReferralRead, summary="Take the referral back")
async def revoke(referral_id: ReferralId, body: RevokeIn, principal: District, request: Request, *,
                 response: Response, if_match: IfMatch = None) -> ReferralRead:
    """Any open state -> revoked, by the district's decision (audited with the note); the provider is told."""
    command = RevokeReferral(principal, referral_id, _now(request), expected_version(if_match), note=body.note)
    return _answer(await _run(request, handlers.revoke_referral, command), response)
