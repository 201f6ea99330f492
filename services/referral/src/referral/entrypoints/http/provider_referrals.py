"""Provider API: a provider's own referrals (see `referral.service_layer.handlers.provider_sync`). Provider tokens
only (role `provider`, scope the provider's id); another provider's referral does not exist (404).

- `GET /provider/referrals`: the lossless sync. Pages in change order (a change sequence, never wall-clock time),
  each referral at its latest version with its ETag; `next` is the cursor to resume from, `Link: rel="next"` names
  the next page while more are ready, the page's weak ETag answers `If-None-Match` with 304.
- `GET /provider/referrals/{id}`: the referral with the child's minimal details (never NIK or KK), audited.
- `POST /provider/referrals/{id}/acknowledge|accept|decline|start|complete`: the lifecycle moves, If-Match
  optional (412 when stale), the new ETag on the answer.
- `PUT /provider/capacity`: the provider's own capacity status.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from referral.domain.commands.provider_sync import (
    MAX_PAGE,
    ListProviderReferrals,
    ReadProviderReferral,
    SetOwnCapacity,
    SyncPosition,
)
from referral.domain.commands.referrals import (
    AcceptReferral,
    AcknowledgeReferral,
    CompleteReferral,
    DeclineReferral,
    StartService,
)
from referral.domain.errors import Invalid
from referral.domain.referrals import Referral
from referral.entrypoints.http.conditional import expected_version
from referral.entrypoints.http.provider_referral_schemas import (
    CURSOR_DOC,
    CapacityRead,
    ProviderReferralItem,
    ProviderReferralPageRead,
    ProviderReferralRead,
    capacity_view,
    etag_of,
    item_view,
    page_view,
    provider_referral_view,
)
from referral.entrypoints.http.provider_schemas import CapacityIn
from referral.entrypoints.http.referral_schemas import OPAQUE_ID, DeclineIn
from referral.service_layer.handlers import provider_sync
from referral.service_layer.handlers import referrals as lifecycle
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.auth import Principal, Role, require
from simpul_platform.unit_of_work import execute

C = TypeVar("C")
R = TypeVar("R")
ProviderToken = Annotated[Principal, Depends(require(Role.PROVIDER, permission="referrals:read"))]
ProviderWriter = Annotated[Principal, Depends(require(Role.PROVIDER, permission="referrals:write"))]
ReferralId = Annotated[str, Path(max_length=64, pattern=OPAQUE_ID, description="The referral's id")]
AccessReason = Annotated[str | None, Header(alias="X-Access-Reason", max_length=500)]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=100,
                                       description="The ETag you last saw; 412 when the referral changed since.")]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=1000,
                                           description="The page's ETag you hold; 304 when the page is the same.")]

router = APIRouter(prefix="/provider", tags=["provider"])

ETAG_HEADER = {"ETag": {"description": "The referral's ETag (its version).", "schema": {"type": "string"}}}
PAGE_HEADERS = {
    "ETag": {"description": "The page's weak ETag (send it as If-None-Match).", "schema": {"type": "string"}},
    "Link": {"description": 'The next page while more are ready: `<...?cursor=...>; rel="next"`.',
             "schema": {"type": "string"}},
}
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"headers": PAGE_HEADERS}, 304: {"description": "The page did not change (If-None-Match)."}}
MOVE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"headers": ETAG_HEADER}}


async def _run(request: Request, handler: Callable[[C, ReferralUnitOfWork], Awaitable[R]], command: C) -> R:
    uow: ReferralUnitOfWork = request.app.state.wiring.unit_of_work()
    result: R = await execute(uow, handler, command)
    return result


def _now(request: Request) -> dt.datetime:
    now: dt.datetime = request.app.state.wiring.clock()
    return now


def _since(updated_since: str | None, cursor: str | None) -> tuple[SyncPosition | None, dt.datetime | None]:
    """Where the sync starts: a cursor (either parameter may carry one) wins over an RFC 3339 time."""
    if cursor is not None:
        return SyncPosition.of_token(cursor), None
    if updated_since is None:
        return None, None
    try:
        at = dt.datetime.fromisoformat(updated_since)
    except ValueError:
        return SyncPosition.of_token(updated_since, "updated_since"), None
    if at.tzinfo is None:
        raise Invalid("updated_since", "an RFC 3339 time needs its offset (Z or +07:00)")
    return None, at


def _page_etag(page: ProviderReferralPageRead) -> str:
    digest = hashlib.sha256(page.next.encode())
    for item in page.items:
        digest.update(f"\n{item.referral_id}:{item.version}".encode())
    return f'W/"{digest.hexdigest()[:32]}"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if if_none_match is None:
        return False
    held = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in held or etag.removeprefix("W/") in held


@router.get("/referrals", response_model=ProviderReferralPageRead, responses=PAGE_RESPONSES,
            summary="Sync your referrals: every change after your cursor, in change order")
async def sync(principal: ProviderToken, request: Request, response: Response, *,
               updated_since: Annotated[str | None, Query(
                   max_length=200, description="A cursor, or an RFC 3339 time for a first sync (referrals changed "
                                               "at or after it); ignored when `cursor` is given.")] = None,
               cursor: Annotated[str | None, Query(max_length=200, description=CURSOR_DOC)] = None,
               limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
               if_none_match: IfNoneMatch = None) -> ProviderReferralPageRead | Response:
    """Your referrals changed after the cursor (every one without cursor or time), oldest change first, each at its
    latest version. Keep `next`; while `more` is true, fetch the `Link: rel="next"` page at once."""
    after, since = _since(updated_since, cursor)
    page = page_view(await _run(request, provider_sync.list_provider_referrals,
                                ListProviderReferrals(principal, after, since, limit)))
    etag = _page_etag(page)
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    if page.more:
        following = request.url.remove_query_params(["updated_since", "cursor"]).include_query_params(
            cursor=page.next, limit=limit)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return page


@router.get("/referrals/{referral_id}", response_model=ProviderReferralRead, responses=MOVE_RESPONSES,
            summary="One of your referrals with the child's minimal details (audited)")
async def read(referral_id: ReferralId, principal: ProviderToken, request: Request, response: Response, *,
               reason: AccessReason = None) -> ProviderReferralRead:
    """The referral and the child's name, sex, age, village and guardians' contact (never NIK or KK; null once the
    guardian withdrew consent). Another provider's referral is 404."""
    today = _now(request).date()
    found = await _run(request, provider_sync.read_provider_referral,
                       ReadProviderReferral(principal, referral_id, today, reason))
    response.headers["ETag"] = etag_of(found.referral)
    return provider_referral_view(found, today)


def _answer(referral: Referral, response: Response) -> ProviderReferralItem:
    response.headers["ETag"] = etag_of(referral)
    return item_view(referral)


@router.post("/referrals/{referral_id}/acknowledge", response_model=ProviderReferralItem, responses=MOVE_RESPONSES,
             summary="You saw the referral")
async def acknowledge(referral_id: ReferralId, principal: ProviderWriter, request: Request, response: Response,
                      if_match: IfMatch = None) -> ProviderReferralItem:
    """issued -> acknowledged; 409 names the state otherwise."""
    command = AcknowledgeReferral(principal, referral_id, _now(request), expected_version(if_match))
    return _answer(await _run(request, lifecycle.acknowledge_referral, command), response)


@router.post("/referrals/{referral_id}/accept", response_model=ProviderReferralItem, responses=MOVE_RESPONSES,
             summary="You will serve the child")
async def accept(referral_id: ReferralId, principal: ProviderWriter, request: Request, response: Response,
                 if_match: IfMatch = None) -> ProviderReferralItem:
    """acknowledged -> accepted."""
    command = AcceptReferral(principal, referral_id, _now(request), expected_version(if_match))
    return _answer(await _run(request, lifecycle.accept_referral, command), response)


@router.post("/referrals/{referral_id}/decline", response_model=ProviderReferralItem, responses=MOVE_RESPONSES,
             summary="You will not serve the child (a reason code)")
async def decline(referral_id: ReferralId, body: DeclineIn, principal: ProviderWriter, request: Request, *,
                  response: Response, if_match: IfMatch = None) -> ProviderReferralItem:
    """acknowledged -> declined with a reason from the code list; the referral goes back to the district."""
    command = DeclineReferral(principal, referral_id, _now(request), expected_version(if_match), reason=body.reason)
    return _answer(await _run(request, lifecycle.decline_referral, command), response)


@router.post("/referrals/{referral_id}/start", response_model=ProviderReferralItem, responses=MOVE_RESPONSES,
             summary="You began serving the child")
async def start(referral_id: ReferralId, principal: ProviderWriter, request: Request, response: Response,
                if_match: IfMatch = None) -> ProviderReferralItem:
    """accepted -> in_service."""
    command = StartService(principal, referral_id, _now(request), expected_version(if_match))
    return _answer(await _run(request, lifecycle.start_service, command), response)


@router.post("/referrals/{referral_id}/complete", response_model=ProviderReferralItem, responses=MOVE_RESPONSES,
             summary="Close the loop")
async def complete(referral_id: ReferralId, principal: ProviderWriter, request: Request, response: Response,
                   if_match: IfMatch = None) -> ProviderReferralItem:
    """in_service -> completed; needs at least one service record."""
    command = CompleteReferral(principal, referral_id, _now(request), expected_version(if_match))
    return _answer(await _run(request, lifecycle.complete_referral, command), response)


@router.put("/capacity", response_model=CapacityRead, summary="Set your capacity status")
async def set_capacity(body: CapacityIn, principal: ProviderWriter, request: Request) -> CapacityRead:
    """available, limited or full (district officers see it; a full provider takes referrals only on override)."""
    provider = await _run(request, provider_sync.set_own_capacity, SetOwnCapacity(principal, body.capacity,
                                                                                   _now(request)))
    return capacity_view(provider)
