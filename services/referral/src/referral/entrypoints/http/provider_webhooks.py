"""Provider API: webhooks, following Standard Webhooks (see `referral.service_layer.handlers.webhooks`). Provider
tokens only (with the `webhooks` scope when the token carries scopes); another provider's endpoint does not exist
(404).

- `POST /provider/webhooks`: register an endpoint (https; the SSRF guard refuses loopback, private, link-local,
  multicast, reserved and unspecified destinations unless the deployment allows them); its `whsec_` secret is shown
  once.
- `GET /provider/webhooks[/{id}]`: the endpoints, their status and why one was disabled (no secrets).
- `POST /provider/webhooks/{id}/rotate-secret`: a new secret; the old one signs too during the overlap.
- `POST /provider/webhooks/{id}/enable`, `DELETE /provider/webhooks/{id}`.
- `GET /provider/webhooks/{id}/deliveries`: the delivery log; `POST .../deliveries/{delivery_id}/redeliver`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from referral.adapters.webhook_sender import resolve
from referral.config import ReferralSettings
from referral.domain.commands.webhooks import (
    DeleteEndpoint,
    EnableEndpoint,
    ListDeliveries,
    ListEndpoints,
    ReadEndpoint,
    Redeliver,
    RegisterEndpoint,
    RotateSecret,
)
from referral.domain.webhook_destinations import parse_url
from referral.domain.webhooks import new_secret
from referral.entrypoints.http.provider_webhook_schemas import (
    DeliveryRead,
    EndpointCreate,
    EndpointRead,
    EndpointWithSecret,
    WebhookPayload,
    delivery_view,
    endpoint_view,
    endpoint_with_secret,
)
from referral.entrypoints.webhook_attempts import destination_rule
from referral.service_layer.handlers import webhooks as handlers
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.auth import Principal, Role, require
from simpul_platform.unit_of_work import execute

C = TypeVar("C")
R = TypeVar("R")
WEBHOOKS_SCOPE = "webhooks"


Provider = Annotated[Principal, Depends(require(Role.PROVIDER, permission=WEBHOOKS_SCOPE))]
EndpointId = Annotated[str, Path(max_length=40, pattern=r"^whe_[a-f0-9]{32}$", description="The endpoint's id")]
DeliveryId = Annotated[str, Path(max_length=40, pattern=r"^dlv_[a-f0-9]{32}$", description="The delivery's id")]

router = APIRouter(prefix="/provider/webhooks", tags=["provider webhooks"])
outgoing = APIRouter(tags=["provider webhooks"])
"""The requests Simpul sends to an endpoint, for the OpenAPI document's `webhooks` (`app.webhooks.include_router`)."""


@outgoing.post("referral-event", summary="A referral event, sent to your endpoint")
async def referral_event(body: WebhookPayload) -> None:
    """Sent as Standard Webhooks: `webhook-id` (the event's id, the same on every retry: deduplicate on it),
    `webhook-timestamp` (seconds since the epoch) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
    id.timestamp.body>` with your `whsec_` secret, two space-separated during a rotation). Verify with any
    Standard Webhooks library and answer 2xx within 10 s; anything else is retried (5 s, 5 min, 30 min, 2 h, 5 h,
    10 h, 10 h by default, honouring Retry-After), 410 disables the endpoint."""


async def _run(request: Request, handler: Callable[[C, ReferralUnitOfWork], Awaitable[R]], command: C) -> R:
    uow: ReferralUnitOfWork = request.app.state.wiring.unit_of_work()
    result: R = await execute(uow, handler, command)
    return result


def _now(request: Request) -> dt.datetime:
    now: dt.datetime = request.app.state.wiring.clock()
    return now


def _settings(request: Request) -> ReferralSettings:
    settings: ReferralSettings = request.app.state.wiring.settings
    return settings


@router.post("", status_code=201, response_model=EndpointWithSecret, summary="Register a webhook endpoint")
async def register(body: EndpointCreate, principal: Provider, request: Request,
                   response: Response) -> EndpointWithSecret:
    """A new endpoint and its signing secret (shown only now); 422 names what the SSRF guard refused."""
    settings = _settings(request)
    rule = destination_rule(settings)
    parts = parse_url(body.url, rule)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    command = RegisterEndpoint(principal, f"whe_{uuid.uuid4().hex}", body.url, frozenset(body.event_types),
                               await resolve(host, port), rule, new_secret(), _now(request),
                               settings.webhook_endpoints_per_provider)
    endpoint = await _run(request, handlers.register_endpoint, command)
    response.headers["Location"] = f"/provider/webhooks/{endpoint.endpoint_id}"
    return endpoint_with_secret(endpoint)


@router.get("", response_model=list[EndpointRead], summary="Your webhook endpoints")
async def list_endpoints(principal: Provider, request: Request) -> list[EndpointRead]:
    """Every endpoint of yours, oldest first, with its status (and why it was disabled)."""
    return [endpoint_view(e) for e in await _run(request, handlers.list_endpoints, ListEndpoints(principal))]


@router.get("/{endpoint_id}", response_model=EndpointRead, summary="One webhook endpoint")
async def read(endpoint_id: EndpointId, principal: Provider, request: Request) -> EndpointRead:
    """The endpoint and its status."""
    return endpoint_view(await _run(request, handlers.read_endpoint, ReadEndpoint(principal, endpoint_id)))


@router.post("/{endpoint_id}/rotate-secret", response_model=EndpointWithSecret, summary="Rotate the secret")
async def rotate(endpoint_id: EndpointId, principal: Provider, request: Request) -> EndpointWithSecret:
    """A new secret (shown only now); the previous one still signs, as a second signature, until
    `previous_secret_expires_at`."""
    overlap = dt.timedelta(hours=_settings(request).webhook_secret_overlap_hours)
    command = RotateSecret(principal, endpoint_id, new_secret(), _now(request), overlap)
    return endpoint_with_secret(await _run(request, handlers.rotate_secret, command))


@router.post("/{endpoint_id}/enable", response_model=EndpointRead, summary="Enable a disabled endpoint")
async def enable(endpoint_id: EndpointId, principal: Provider, request: Request) -> EndpointRead:
    """Deliveries resume, starting with those that waited for the endpoint."""
    return endpoint_view(await _run(request, handlers.enable_endpoint, EnableEndpoint(principal, endpoint_id)))


@router.delete("/{endpoint_id}", status_code=204, summary="Remove a webhook endpoint")
async def delete(endpoint_id: EndpointId, principal: Provider, request: Request) -> Response:
    """The endpoint and its delivery log are gone."""
    await _run(request, handlers.delete_endpoint, DeleteEndpoint(principal, endpoint_id))
    return Response(status_code=204)


@router.get("/{endpoint_id}/deliveries", response_model=list[DeliveryRead], summary="The delivery log")
async def deliveries(endpoint_id: EndpointId, principal: Provider, request: Request,
                     limit: Annotated[int, Query(ge=1, le=100)] = 50) -> list[DeliveryRead]:
    """The newest deliveries, each with every attempt's status code, duration and error."""
    found = await _run(request, handlers.list_deliveries, ListDeliveries(principal, endpoint_id, limit))
    return [delivery_view(d) for d in found]


@router.post("/{endpoint_id}/deliveries/{delivery_id}/redeliver", status_code=202, response_model=DeliveryRead,
             summary="Send a delivery again")
async def redeliver(endpoint_id: EndpointId, delivery_id: DeliveryId, principal: Provider,
                    request: Request) -> DeliveryRead:
    """The delivery is due now, with a fresh retry schedule (409 while the endpoint is disabled)."""
    command = Redeliver(principal, endpoint_id, delivery_id, _now(request))
    return delivery_view(await _run(request, handlers.redeliver, command))
