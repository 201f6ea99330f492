"""HTTP schemas of the provider webhooks API (Standard Webhooks) and the views of endpoints and deliveries."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from referral.domain.webhook_destinations import MAX_URL_LENGTH
from referral.domain.webhooks import (
    Attempt,
    DeliveryStatus,
    DisabledReason,
    Endpoint,
    EndpointStatus,
    WebhookDelivery,
    WebhookEventType,
)

DISABLED_BECAUSE = {
    DisabledReason.GONE: "the endpoint answered 410 Gone",
    DisabledReason.SUSTAINED_FAILURE: "every attempt failed for longer than the configured days",
    DisabledReason.DELIVERIES_EXHAUSTED: "too many deliveries in a row failed after every retry",
}

# domain/webhook_destinations.py's parse_url as a pattern: https, a host (no user info), a port from 1 to 9999, no
# fragment (documented; the domain checks it, with the deployment's http exceptions). Whether the host resolves,
# and to public addresses, only the network can tell.
HTTPS_URL = r"^https://[A-Za-z0-9.-]+(:[1-9][0-9]{0,3})?([/?][^#\s]*)?$"


class EndpointCreate(BaseModel):
    """An endpoint to register: an https URL (http only to a destination the deployment allows), the events."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=MAX_URL_LENGTH, examples=["https://provider.example/simpul/webhooks"],
                     json_schema_extra={"pattern": HTTPS_URL},
                     description="An https URL with a host, no credentials and no fragment (http only to a "
                                 "destination the deployment allows); its host must resolve to public addresses only")
    event_types: list[WebhookEventType] = Field(min_length=1, max_length=len(WebhookEventType),
                                                description="The referral events to receive.")


class EndpointRead(BaseModel):
    """An endpoint as the provider sees it (never its secret): where, which events, and whether it is enabled."""

    endpoint_id: str
    url: str
    event_types: list[WebhookEventType]
    status: EndpointStatus
    disabled_reason: DisabledReason | None = Field(description="Why the endpoint was disabled, as a code.")
    disabled_because: str | None = Field(description="The same in words.")
    disabled_at: dt.datetime | None
    failing_since: dt.datetime | None = Field(description="Since when every attempt has failed (null: healthy).")
    previous_secret_expires_at: dt.datetime | None = Field(
        description="Until when the secret replaced by the last rotation still signs (a second signature).")
    created_at: dt.datetime


class EndpointWithSecret(EndpointRead):
    """An endpoint with its new signing secret: shown once, at registration or rotation; keep it."""

    secret: str = Field(description="The `whsec_` secret verifying `webhook-signature` (Standard Webhooks).")


class AttemptRead(BaseModel):
    """One attempt at a delivery."""

    number: int
    at: dt.datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null when it did not answer.")
    duration_ms: int
    error: str | None = Field(description="What failed: `timeout`, `HTTP 503`, `refused destination: ...`.")


class DeliveryRead(BaseModel):
    """One event's delivery to the endpoint, with its attempts."""

    delivery_id: str
    webhook_id: str = Field(description="The `webhook-id` header: the event's id, the same on every attempt.")
    event_type: WebhookEventType
    status: DeliveryStatus
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    attempts: list[AttemptRead]


class WebhookData(BaseModel):
    """Which referral, and its status after the event: fetch the rest through the provider API."""

    referral_id: str
    status: str = Field(description="The referral's status: issued, acknowledged, accepted, declined, in_service, "
                                    "completed, revoked or expired.")


class WebhookPayload(BaseModel):
    """What a webhook's body carries (thin: nothing about the child)."""

    type: WebhookEventType
    timestamp: dt.datetime = Field(description="When the event happened (UTC).")
    data: WebhookData


def endpoint_view(endpoint: Endpoint) -> EndpointRead:
    """What the provider may see of an endpoint."""
    return EndpointRead(**_endpoint_fields(endpoint))


def endpoint_with_secret(endpoint: Endpoint) -> EndpointWithSecret:
    """The endpoint and its current secret."""
    current = next(s.value for s in endpoint.secrets if s.expires_at is None)
    return EndpointWithSecret(**_endpoint_fields(endpoint), secret=current)


def _endpoint_fields(endpoint: Endpoint) -> dict[str, object]:
    previous = [s.expires_at for s in endpoint.secrets if s.expires_at is not None]
    return {"endpoint_id": endpoint.endpoint_id, "url": endpoint.url, "event_types": sorted(endpoint.event_types),
            "status": endpoint.status, "disabled_reason": endpoint.disabled_reason,
            "disabled_because": DISABLED_BECAUSE.get(endpoint.disabled_reason) if endpoint.disabled_reason else None,
            "disabled_at": endpoint.disabled_at, "failing_since": endpoint.failing_since,
            "previous_secret_expires_at": max(previous) if previous else None, "created_at": endpoint.created_at}


def _attempt_view(attempt: Attempt) -> AttemptRead:
    return AttemptRead(number=attempt.number, at=attempt.at, status_code=attempt.status_code,
                       duration_ms=attempt.duration_ms, error=attempt.error)


def delivery_view(delivery: WebhookDelivery) -> DeliveryRead:
    """A delivery and its attempts, oldest attempt first."""
    return DeliveryRead(delivery_id=delivery.delivery_id, webhook_id=delivery.event_id,
                        event_type=delivery.event_type, status=delivery.status, created_at=delivery.created_at,
                        next_attempt_at=delivery.next_attempt_at,
                        attempts=[_attempt_view(a) for a in delivery.attempts])
