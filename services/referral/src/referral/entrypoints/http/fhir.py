"""FHIR R4B façade for health providers (docs/fhir.md): a provider's referrals as Task + ServiceRequest, the Task
search, and status updates by PATCH (JSON Patch) or PUT, checked against the referral's state machine through the
referrals area's handlers. Provider tokens only; another provider's referral does not exist (404). Every answer is
`application/fhir+json`, every refusal an OperationOutcome (never problem+json): the route class translates.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fhir.resources.R4B.task import Task
from starlette.exceptions import HTTPException

from referral.adapters import fhir_mapping as fm
from referral.domain.commands.fhir import ChangeReferralStatus, SearchProviderReferrals
from referral.domain.commands.provider_sync import SyncPosition
from referral.domain.commands.referrals import ReadReferral
from referral.domain.deadlines import next_due_at
from referral.domain.errors import Invalid
from referral.domain.lifecycle import ReferralStatus
from referral.domain.referrals import Referral
from referral.entrypoints.http.fhir_openapi import (
    CURSOR,
    FHIR_ID,
    FHIR_ID_FORM,
    JSON_PATCH,
    LAST_UPDATED,
    SEARCH_PARAMETERS,
    STATUS_LIST,
    TASK_UPDATE,
)
from referral.entrypoints.http.fhir_schemas import (
    MEDIA_TYPE,
    PATCH_MEDIA_TYPE,
    FhirError,
    apply_patch,
    capability_statement,
    changed_elements,
    check_patch,
    fhir_response,
    instant,
    outcome,
    parse_task,
    searchset,
)
from referral.entrypoints.jobs import deadline_policies
from referral.service_layer.handlers import fhir as fhir_handlers
from referral.service_layer.handlers import referrals as handlers
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.auth import Principal, Role, require
from simpul_platform.errors import DomainError, ErrorKind
from simpul_platform.problems import Problem, route_of
from simpul_platform.unit_of_work import execute

log = logging.getLogger(__name__)
C = TypeVar("C")
R = TypeVar("R")
ISSUE_OF_KIND = {ErrorKind.INVALID: (422, "invalid"), ErrorKind.NOT_FOUND: (404, "not-found"),
                 ErrorKind.FORBIDDEN: (403, "forbidden"), ErrorKind.CONFLICT: (422, "business-rule"),
                 ErrorKind.STALE: (412, "conflict")}
"""FHIR's http page: 422 when a request breaks the server's business rules (the state machine), 409 and 412 for
version conflicts."""
ISSUE_OF_STATUS = {400: "structure", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
                   409: "conflict", 412: "conflict", 413: "too-costly", 415: "not-supported", 422: "invalid",
                   429: "throttled"}


def fhir_error(error: Exception) -> FhirError:
    """Any refusal as the OperationOutcome's status, issue type and diagnostics (a field, a reason, no value)."""
    if isinstance(error, FhirError):
        return error
    if isinstance(error, DomainError):
        status, code = ISSUE_OF_KIND[error.kind]
        if error.kind is ErrorKind.CONFLICT and error.field == "version":
            status, code = 409, "conflict"  # a concurrent save of the same version, not a rule
        expression = [error.field] if error.field.startswith("Task.") else []
        return FhirError(status, code, str(error), expression)
    if isinstance(error, RequestValidationError):
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        return FhirError(400, "invalid", reasons)
    if isinstance(error, Problem):
        return FhirError(error.status, ISSUE_OF_STATUS.get(error.status, "processing"), error.detail or error.title)
    assert isinstance(error, HTTPException)
    return FhirError(error.status_code, ISSUE_OF_STATUS.get(error.status_code, "processing"), str(error.detail),
                     headers=dict(error.headers or {}))


class FhirRoute(APIRoute):
    """A route whose refusals leave as OperationOutcome (the app's handlers would answer problem+json)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, translating every error it raises."""
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handle(request)
            except (FhirError, DomainError, RequestValidationError, Problem, HTTPException) as error:
                refusal = fhir_error(error)
                return fhir_response(outcome(refusal), refusal.status, refusal.headers)
            except Exception as error:  # logged by type and route only: a message may carry request values
                log.error("unhandled %s on %s %s", type(error).__name__, request.method, route_of(request))
                return fhir_response(outcome(FhirError(500, "exception", "failed on our side; it was logged")), 500)

        return guarded


FHIR_SCOPE = "fhir"
"""The OAuth scope of the façade (`referral.domain.clients.SCOPES`)."""


async def fhir_provider(principal: Annotated[Principal, Depends(require(Role.PROVIDER))]) -> Principal:
    """A provider whose token grants the `fhir` scope; a development token, which grants no OAuth scopes, passes."""
    if principal.permissions and not principal.may(FHIR_SCOPE):
        raise FhirError(403, "forbidden", f"scope: the token was not granted {FHIR_SCOPE}")
    return principal


Provider = Annotated[Principal, Depends(fhir_provider)]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=100)]
FhirId = Annotated[str, Path(json_schema_extra={"pattern": FHIR_ID})]
"""A FHIR id; another is no resource of ours (404)."""
_ANSWERS: dict[int | str, dict[str, Any]] = {
    "4XX": {"description": "Refused: an OperationOutcome naming the element and the reason",
            "content": {MEDIA_TYPE: {"schema": {"type": "object"}}}}}
_RESOURCE: dict[int | str, dict[str, Any]] = {200: {"content": {MEDIA_TYPE: {"schema": {"type": "object"}}}}}
router = APIRouter(prefix="/fhir", tags=["fhir"], route_class=FhirRoute, responses=_ANSWERS)


async def _run(request: Request, handler: Callable[[C, ReferralUnitOfWork], Awaitable[R]], command: C) -> R:
    uow: ReferralUnitOfWork = request.app.state.wiring.unit_of_work()
    result: R = await execute(uow, handler, command)
    return result


def _task(request: Request, referral: Referral) -> Task:
    policies = deadline_policies(request.app.state.wiring.settings)
    return fm.task(referral, next_due_at(referral, policies))


def _versioned(referral: Referral) -> dict[str, str]:
    return {"ETag": f'W/"{referral.version}"'}


def _referral_id(fhir_id: str) -> str:
    if not FHIR_ID_FORM.fullmatch(fhir_id):  # every id we give is a FHIR id
        raise FhirError(404, "not-found", "no such resource")
    return fm.our_id(fhir_id)


@router.get("/metadata", summary="CapabilityStatement (FHIR R4B)", responses=_RESOURCE)
async def metadata() -> Response:
    """What this FHIR endpoint serves; no token needed."""
    return fhir_response(capability_statement())


@router.get("/Task/{task_id}", summary="A referral's Task (audited)", responses=_RESOURCE)
async def read_task(task_id: FhirId, principal: Provider, request: Request) -> Response:
    """The Task of one of your referrals, with its version as ETag."""
    referral = await _run(request, handlers.read_referral, ReadReferral(principal, _referral_id(task_id)))
    return fhir_response(_task(request, referral), headers=_versioned(referral))


@router.get("/ServiceRequest/{request_id}", summary="A referral's ServiceRequest (audited)", responses=_RESOURCE)
async def read_service_request(request_id: FhirId, principal: Provider, request: Request) -> Response:
    """What one of your referrals asks for."""
    referral = await _run(request, handlers.read_referral, ReadReferral(principal, _referral_id(request_id)))
    return fhir_response(fm.service_request(referral), headers=_versioned(referral))


@router.get("/Task", summary="Search your Tasks (audited)", responses=_RESOURCE)
async def search_tasks(
    principal: Provider, request: Request, *, owner: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(max_length=200, json_schema_extra=SEARCH_PARAMETERS["status"])] = None,
    last_updated: Annotated[str | None, Query(alias="_lastUpdated", max_length=40,
                                              json_schema_extra=SEARCH_PARAMETERS["_lastUpdated"])] = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(alias="_cursor", max_length=200,
                                        json_schema_extra=SEARCH_PARAMETERS["_cursor"])] = None,
) -> Response:
    """Your Tasks in the order they last changed (the provider sync's lossless stream), a page at a time."""
    query = {"owner": owner, "status": status, "_lastUpdated": last_updated, "_count": str(count)}
    search = SearchProviderReferrals(principal, _statuses(status), _updated_after(last_updated), count,
                                     _position(cursor))
    base = f"{request.base_url}fhir/"
    self_url = f"{base}Task?{urlencode({k: v for k, v in (query | {'_cursor': cursor}).items() if v})}"
    if owner is not None and fm.our_id(owner.removeprefix("Organization/")) not in principal.scope:
        return fhir_response(searchset(base, [], self_url, None, 0))
    found = await _run(request, fhir_handlers.search_provider_referrals, search)
    tasks = [_task(request, referral) for referral in found.referrals]
    next_url = (f"{base}Task?{urlencode({k: v for k, v in query.items() if v} | {'_cursor': found.next.token()})}"
                if found.more else None)
    return fhir_response(searchset(base, tasks, self_url, next_url, found.total))


def _statuses(status: str | None) -> frozenset[ReferralStatus] | None:
    """Our statuses behind the Task status codes asked for (a code none maps to finds nothing)."""
    if status is None:
        return None
    if not STATUS_LIST.fullmatch(status):
        raise FhirError(400, "value", "status: not a code of http://hl7.org/fhir/task-status", ["status"])
    codes = frozenset(status.split(","))
    return frozenset(ours for ours, code in fm.TASK_STATUS.items() if code in codes)


def _position(cursor: str | None) -> SyncPosition | None:
    """Where a next link's `_cursor` resumes; 400 when it is not one we gave (a search parameter, not a resource)."""
    if cursor is None:
        return None
    try:
        if not CURSOR.fullmatch(cursor):
            raise Invalid("_cursor", "not URL-safe base64")
        return SyncPosition.of_token(cursor, "_cursor")
    except Invalid:
        raise FhirError(400, "value", "_cursor: not a cursor of a next link we gave", ["_cursor"]) from None


def _updated_after(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    if not value.startswith("gt"):
        raise FhirError(400, "not-supported", "_lastUpdated: only the gt prefix is supported", ["_lastUpdated"])
    if not LAST_UPDATED.fullmatch(value):
        raise FhirError(400, "value", "_lastUpdated: not gt and a FHIR date or instant from 1900", ["_lastUpdated"])
    moment = instant(value[2:], "_lastUpdated")
    try:
        return moment.astimezone(dt.UTC) + dt.timedelta(microseconds=1)
    except OverflowError:  # the last microsecond of 9999 (UTC): nothing changed after it
        return dt.datetime.max.replace(tzinfo=dt.UTC)


def _version(if_match: str | None) -> int | None:
    """The version a `W/"<n>"` If-Match names (None without one); 412 when it cannot be one of ours."""
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()):
        raise FhirError(412, "conflict", "If-Match: not a version of this Task (W/\"<versionId>\")")
    return int(value)


async def _body(request: Request, media_types: tuple[str, ...]) -> object:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in media_types:
        raise FhirError(415, "not-supported", f"Content-Type: send {' or '.join(media_types)}")
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise FhirError(400, "structure", "the body is not JSON") from None


async def _answer_update(request: Request, principal: Principal, task_id: str, if_match: str | None,
                         wanted: Callable[[Referral], Task]) -> Response:
    """Move the referral where the wanted Task says (made from the referral as it stands, in the transaction)."""
    now: dt.datetime = request.app.state.wiring.clock()
    command = ChangeReferralStatus(principal, _referral_id(task_id), now, _version(if_match),
                                   lambda referral: fm.status_change(referral.status, wanted(referral)))
    referral = await _run(request, fhir_handlers.change_referral_status, command)
    return fhir_response(_task(request, referral), headers=_versioned(referral))


_PATCH_BODY = {"requestBody": {"required": True, "content": {PATCH_MEDIA_TYPE: {"schema": JSON_PATCH}}}}
_PUT_BODY = {"requestBody": {"required": True, "content": {MEDIA_TYPE: {"schema": TASK_UPDATE},
                                                             "application/json": {"schema": TASK_UPDATE}}}}


@router.patch("/Task/{task_id}", summary="Move a referral by a JSON Patch on its Task's status",
              responses=_RESOURCE, openapi_extra=_PATCH_BODY)
async def patch_task(task_id: FhirId, principal: Provider, request: Request, if_match: IfMatch = None) -> Response:
    """JSON Patch on /status, /statusReason and /businessStatus, checked against the state machine (422 when it
    refuses); If-Match `W/"<versionId>"` optional (412 when stale)."""
    operations = await _body(request, (PATCH_MEDIA_TYPE,))
    if not isinstance(operations, list):  # the request's own checks come before its preconditions (RFC 9110 §13.2.1)
        raise FhirError(400, "structure", "the body must be a JSON Patch: an array of operations")
    check_patch(operations)

    def wanted(referral: Referral) -> Task:
        document = _task(request, referral).model_dump(mode="json")
        return parse_task(apply_patch(document, operations))

    return await _answer_update(request, principal, task_id, if_match, wanted)


@router.put("/Task/{task_id}", summary="Move a referral by sending its Task with a new status",
            responses=_RESOURCE, openapi_extra=_PUT_BODY)
async def put_task(task_id: FhirId, principal: Provider, request: Request, if_match: IfMatch = None) -> Response:
    """The whole Task; only status, statusReason and businessStatus may differ from the current one (422 names
    any other element changed); checked against the state machine."""
    sent = parse_task(await _body(request, (MEDIA_TYPE, "application/json")))
    if sent.id != task_id:
        raise FhirError(400, "invalid", "Task.id: must be the id in the URL", ["Task.id"])

    def wanted(referral: Referral) -> Task:
        changed = changed_elements(_task(request, referral), sent)
        if changed:
            raise FhirError(422, "business-rule", f"{', '.join(changed)}: only status, statusReason and "
                                                  "businessStatus change through PUT", changed)
        return sent

    return await _answer_update(request, principal, task_id, if_match, wanted)


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def unknown(path: str) -> Response:
    """Anything else under /fhir: an OperationOutcome, not the app's problem+json."""
    raise FhirError(404, "not-supported", "no such FHIR interaction here; see /fhir/metadata")
