"""Commands of the `webhooks` area (see `referral.service_layer.handlers.webhooks`): a provider's endpoints, the
deliveries the referral events make, the delivery job's rounds, the delivery log and redelivery."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from referral.domain.webhook_destinations import DestinationRule, IPAddress
from referral.domain.webhooks import AttemptOutcome, DisablePolicy, ReferralNotice, RetrySchedule, WebhookEventType
from simpul_platform.callers import Caller


@dataclass(frozen=True)
class RegisterEndpoint:
    """A provider registers an endpoint; `addresses` are what its host resolved to just now (the SSRF guard)."""

    by: Caller
    endpoint_id: str
    url: str
    event_types: frozenset[WebhookEventType]
    addresses: tuple[IPAddress, ...]
    rule: DestinationRule
    secret: str
    at: dt.datetime
    limit: int = 10


@dataclass(frozen=True)
class ListEndpoints:
    """A provider's endpoints, with their status (no secrets)."""

    by: Caller


@dataclass(frozen=True)
class ReadEndpoint:
    """One of the provider's endpoints, with its status (no secret)."""

    by: Caller
    endpoint_id: str


@dataclass(frozen=True)
class RotateSecret:
    """A new secret for the endpoint; the previous one signs too for `overlap`."""

    by: Caller
    endpoint_id: str
    secret: str
    at: dt.datetime
    overlap: dt.timedelta


@dataclass(frozen=True)
class EnableEndpoint:
    """A provider enables a disabled endpoint again (the deliveries waiting for it resume)."""

    by: Caller
    endpoint_id: str


@dataclass(frozen=True)
class DeleteEndpoint:
    """A provider removes an endpoint and its delivery log."""

    by: Caller
    endpoint_id: str


@dataclass(frozen=True)
class RecordDeliveries:
    """One run of referral events: a delivery for each endpoint that wants each (the consumer's transaction)."""

    notices: tuple[ReferralNotice, ...]
    at: dt.datetime


@dataclass(frozen=True)
class ClaimDueDeliveries:
    """Take up to `limit` deliveries due at `now` for this replica: none is due again until `lease` has passed."""

    now: dt.datetime
    lease: dt.timedelta
    limit: int = 50


@dataclass(frozen=True)
class AttemptMade:
    """What an attempt at the claimed delivery's `number`-th try gave; `draw` varies the next wait (jitter)."""

    delivery_id: str
    number: int
    outcome: AttemptOutcome
    at: dt.datetime
    draw: float


@dataclass(frozen=True)
class RecordAttempts:
    """Log the attempts of one round and schedule what follows."""

    attempts: tuple[AttemptMade, ...]
    schedule: RetrySchedule
    policy: DisablePolicy


@dataclass(frozen=True)
class ListDeliveries:
    """An endpoint's delivery log, newest first."""

    by: Caller
    endpoint_id: str
    limit: int = 50


@dataclass(frozen=True)
class Redeliver:
    """Send a delivery again now."""

    by: Caller
    endpoint_id: str
    delivery_id: str
    at: dt.datetime


@dataclass(frozen=True)
class PurgeDeliveryLog:
    """Forget up to `limit` finished deliveries recorded before `before` (the delivery log's retention)."""

    before: dt.datetime
    limit: int = 500
