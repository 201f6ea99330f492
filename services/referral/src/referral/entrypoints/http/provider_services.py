"""Provider API: service records (see `referral.service_layer.handlers.service_records`). Provider tokens only; another
provider's referral does not exist (404).

- `POST /provider/referrals/{id}/service-records`: one record (201 and the record).
- `POST /provider/service-records:batch`: up to 500 records (200 and one result per record, in order: 201 and the
  record id, or the refusal as problem details). The records the rules take commit in one transaction, with their
  events; a refused record changes nothing. More than 500 records is a 422 naming `records`.
- A client's token needs the `services:write` scope (403 otherwise).
- Both REQUIRE an `Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header; a missing one is a 400
  naming it), scoped to the client (the token's subject): a retry with the same key and body gets the stored answer
  again (`Idempotent-Replayed: true`), another body with the key is a 422, a retry while the first is still running
  a 409. Keys are kept `REFERRAL_IDEMPOTENCY_KEY_HOURS` (24 h) and purged by a periodic job. A refused request
  stores nothing: a retry runs again.
- Bodies over `REFERRAL_SERVICE_RECORD_MAX_BYTES` (64 KiB) or, for a batch, `REFERRAL_SERVICE_RECORD_BATCH_MAX_BYTES`
  (2 MiB, the platform's limit on every body) are refused with a 413 before they are read whole.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.routing import APIRoute

from referral.domain.commands.service_records import PushServiceRecord, PushServiceRecords
from referral.entrypoints.http.provider_service_schemas import (
    BatchPush,
    BatchRead,
    ServiceRecordPush,
    ServiceRecordRead,
    batch_view,
    record_view,
)
from referral.entrypoints.http.referral_schemas import OPAQUE_ID
from referral.service_layer.handlers import service_records as handlers
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.auth import Principal, Role, require
from simpul_platform.idempotency import HEADER, KEY_MAX_LENGTH, REPLAY_HEADER, Answer, IdempotencyKey, execute_once
from simpul_platform.idempotency import fingerprint as fingerprint_of
from simpul_platform.problems import Problem
from simpul_platform.web import required_header

C = TypeVar("C")
R = TypeVar("R")
ReferralId = Annotated[str, Path(max_length=64, pattern=OPAQUE_ID, description="The referral's id")]

SCOPE = "services:write"
ProviderToken = Annotated[Principal, Depends(require(Role.PROVIDER, permission=SCOPE))]
"""The OAuth scope a client's token needs to push service records."""
BODY_LIMITS = {"push_service_record": "service_record_max_bytes",
               "push_service_records": "service_record_batch_max_bytes"}
"""Which setting bounds the body of which route (by endpoint name)."""
KEY_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "No Idempotency-Key: this route requires one (problem+json naming the header)."},
    409: {"description": "A request with this Idempotency-Key is still being processed, or the referral's state "
                         "refuses the record: retry later / see `errors`."},
    413: {"description": "The body is larger than this route accepts."},
    422: {"description": "A field is invalid, or the Idempotency-Key was used with another request (`errors` "
                         "names `Idempotency-Key`)."},
}
# Both routes require the key (400 without it, the draft's answer): documented as required, read by the route.
KEY_FORM = r'^"?[\x21\x23-\x7e]{1,255}"?$'  # simpul_platform.idempotency.KeyHeader's
RequiredKey = Annotated[str | None, Header(alias=HEADER, max_length=KEY_MAX_LENGTH + 2, pattern=KEY_FORM,
                                           include_in_schema=False)]
KEY_REQUIRED = required_header(HEADER, maxLength=KEY_MAX_LENGTH + 2, pattern=KEY_FORM)
ANSWER_HEADERS = {REPLAY_HEADER: {"description": "`true` when the answer is the stored one of an earlier request "
                                                 "with this Idempotency-Key.", "schema": {"type": "string"}}}


class LimitedBody(APIRoute):
    """A route whose body is refused with 413 once it grows past its limit, before it is read whole."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler behind a body limit (the setting named in `BODY_LIMITS`)."""
        handler = super().get_route_handler()
        setting = BODY_LIMITS.get(self.name)
        if setting is None:
            return handler

        async def limited(request: Request) -> Response:
            limit: int = getattr(request.app.state.wiring.settings, setting)
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise _too_large(limit)
            request._body = bytes(body)  # what FastAPI parses next
            return await handler(request)

        return limited


router = APIRouter(prefix="/provider", tags=["provider service records"], route_class=LimitedBody)


def _too_large(limit: int) -> Problem:
    return Problem(413, "Content too large", f"body: more than {limit} bytes; send fewer records per request",
                   [{"field": "body", "reason": f"at most {limit} bytes"}])


@router.post("/referrals/{referral_id}/service-records", status_code=201, response_model=ServiceRecordRead,
             summary="Push a service record", responses=KEY_RESPONSES | {201: {"headers": ANSWER_HEADERS}},
             openapi_extra=KEY_REQUIRED)
async def push_service_record(referral_id: ReferralId, body: ServiceRecordPush, principal: ProviderToken,
                              request: Request, idempotency_key: RequiredKey = None) -> Response:
    """Record a service delivered under one of your referrals (on an accepted referral it starts the service)."""
    key = _key(principal, idempotency_key, request, body)
    command = PushServiceRecord(principal, _now(request), body.command_record(referral_id, _record_id()))
    return await _run_once(request, handlers.push_service_record, command, key,
                           lambda record: Answer(201, record_view(referral_id, record).model_dump_json().encode()))


@router.post("/service-records:batch", response_model=BatchRead, summary="Push up to 500 service records",
             responses=KEY_RESPONSES | {200: {"headers": ANSWER_HEADERS}}, openapi_extra=KEY_REQUIRED)
async def push_service_records(body: BatchPush, principal: ProviderToken, request: Request,
                               idempotency_key: RequiredKey = None) -> Response:
    """Record many services at once: one result per record; the taken ones commit together, a refused one changes
    nothing."""
    key = _key(principal, idempotency_key, request, body)
    records = tuple(r.command_record(r.referral_id, _record_id()) for r in body.records)
    command = PushServiceRecords(principal, _now(request), records)
    return await _run_once(request, handlers.push_service_records, command, key,
                           lambda results: Answer(200, batch_view(results).model_dump_json().encode()))


def _key(principal: Principal, header: str | None, request: Request, body: ServiceRecordPush | BatchPush
         ) -> IdempotencyKey:
    if header is None:
        raise Problem(400, "Idempotency key required", f"{HEADER}: required on this route",
                      [{"field": HEADER, "reason": "required: send a unique key per request, the same on retries"}])
    target = request.scope.get("path", "")
    return IdempotencyKey(principal.subject, header.strip('"'),
                          fingerprint_of("POST", target, body.model_dump(mode="json")))


async def _run_once(request: Request, handler: Callable[[C, ReferralUnitOfWork], Awaitable[R]], command: C,
                    key: IdempotencyKey, answer: Callable[[R], Answer]) -> Response:
    wiring = request.app.state.wiring
    ttl = dt.timedelta(hours=wiring.settings.idempotency_key_hours)
    outcome = await execute_once(wiring.unit_of_work(), handler, command, key=key, answer=answer, now=_now(request),
                                 ttl=ttl)
    headers = {REPLAY_HEADER: "true"} if outcome.replayed else {}
    return Response(outcome.answer.body, outcome.answer.status, headers, media_type="application/json")


def _now(request: Request) -> dt.datetime:
    now: dt.datetime = request.app.state.wiring.clock()
    return now


def _record_id() -> str:
    return f"svc_{uuid.uuid4().hex}"
