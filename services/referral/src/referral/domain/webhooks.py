"""Webhooks (Standard Webhooks): a provider's endpoints and their `whsec_` secrets, the delivery of each referral
event to each endpoint that wants it, the retry schedule, and the rules that disable an endpoint.

Pure: no network and no clock (every moment is passed in); the sender's outcome of an attempt comes in as an
`AttemptOutcome`. The body is thin: the event's type and time, the referral's id and status; nothing about the child.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from referral.domain.errors import Conflict, require, require_aware

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix every secret carries, not a secret
ERROR_LENGTH = 200


class WebhookEventType(enum.StrEnum):
    """What a provider can subscribe to: what happened to one of its referrals."""

    ISSUED = "referral.issued"
    ACKNOWLEDGED = "referral.acknowledged"
    ACCEPTED = "referral.accepted"
    DECLINED = "referral.declined"
    SERVICE_STARTED = "referral.service_started"
    SERVICE_RECORDED = "referral.service_recorded"
    COMPLETED = "referral.completed"
    REVOKED = "referral.revoked"
    EXPIRED = "referral.expired"
    OVERDUE = "referral.overdue"
    ESCALATED = "referral.escalated"


class EndpointStatus(enum.StrEnum):
    """Whether an endpoint receives deliveries."""

    ENABLED = "enabled"
    DISABLED = "disabled"


class DisabledReason(enum.StrEnum):
    """Why an endpoint was disabled: it answered 410 Gone, every attempt failed for too long, or too many
    deliveries in a row ran out of retries."""

    GONE = "gone"
    SUSTAINED_FAILURE = "sustained_failure"
    DELIVERIES_EXHAUSTED = "deliveries_exhausted"


class DeliveryStatus(enum.StrEnum):
    """Where a delivery stands: still to be (re)tried, answered 2xx, or given up."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def new_secret() -> str:
    """A fresh signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@dataclass(frozen=True)
class SigningSecret:
    """One of an endpoint's secrets; a previous one signs too until `expires_at` (None: the current one)."""

    value: str
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class DisablePolicy:
    """When sustained failure disables an endpoint: every attempt failing for `failing_for`, or
    `exhausted_in_a_row` deliveries in a row running out of retries (0: never on that count)."""

    failing_for: dt.timedelta = dt.timedelta(days=5)
    exhausted_in_a_row: int = 5


@dataclass(frozen=True)
class RetrySchedule:
    """The waits after each failed attempt (Standard Webhooks suggests 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), each
    varied by +/- `jitter` of itself; a receiver's Retry-After lengthens a wait, up to `retry_after_cap`."""

    delays: tuple[dt.timedelta, ...]
    jitter: float = 0.1
    retry_after_cap: dt.timedelta = dt.timedelta(hours=10)

    def __post_init__(self) -> None:
        require(0 <= self.jitter < 1, "jitter", "between 0 and 1")

    def next_attempt_at(self, failed: int, now: dt.datetime, retry_after: dt.timedelta | None,
                        draw: float) -> dt.datetime | None:
        """When to try again after `failed` attempts failed in a row (None: give up); `draw` is uniform in [0, 1)."""
        if failed > len(self.delays):
            return None
        delay = self.delays[failed - 1] * (1 + self.jitter * (2 * draw - 1))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.retry_after_cap))
        return now + delay


@dataclass
class Endpoint:
    """Where a provider wants to hear of its referrals, which events, and how deliveries to it have gone."""

    endpoint_id: str
    provider_id: str
    url: str
    event_types: frozenset[WebhookEventType]
    secrets: tuple[SigningSecret, ...]
    created_at: dt.datetime
    status: EndpointStatus = EndpointStatus.ENABLED
    disabled_reason: DisabledReason | None = None
    disabled_at: dt.datetime | None = None
    failing_since: dt.datetime | None = None
    exhausted_in_a_row: int = 0

    def __post_init__(self) -> None:
        require(bool(self.event_types), "event_types", "name at least one event type")
        require_aware(self.created_at, "created_at")

    def wants(self, event_type: WebhookEventType) -> bool:
        """Whether a delivery of this event type is recorded for the endpoint."""
        return self.status is EndpointStatus.ENABLED and event_type in self.event_types

    def signing_secrets(self, now: dt.datetime) -> tuple[str, ...]:
        """The secrets that sign at `now`: the current one, then a previous one still in its overlap."""
        return tuple(s.value for s in self.secrets if s.expires_at is None or s.expires_at > now)

    def rotate(self, secret: str, now: dt.datetime, overlap: dt.timedelta) -> None:
        """A new current secret; the one it replaces keeps signing for `overlap` (older ones stop now)."""
        require(secret.startswith(SECRET_PREFIX), "secret", f"starts with {SECRET_PREFIX}")
        kept = tuple(replace(s, expires_at=now + overlap) for s in self.secrets if s.expires_at is None)
        self.secrets = (SigningSecret(secret), *(s for s in kept if overlap > dt.timedelta(0)))

    def enable(self) -> None:
        """Receive deliveries again, with a clean record of failures."""
        self.status, self.disabled_reason, self.disabled_at = EndpointStatus.ENABLED, None, None
        self.failing_since, self.exhausted_in_a_row = None, 0

    def disable(self, reason: DisabledReason, now: dt.datetime) -> None:
        """Stop deliveries (those recorded wait until the endpoint is enabled)."""
        if self.status is EndpointStatus.ENABLED:
            self.status, self.disabled_reason, self.disabled_at = EndpointStatus.DISABLED, reason, now

    def answered(self) -> None:
        """An attempt succeeded: the failure record starts over."""
        self.failing_since, self.exhausted_in_a_row = None, 0

    def failed(self, now: dt.datetime, policy: DisablePolicy) -> None:
        """An attempt failed; every attempt failing since `failing_for` disables the endpoint."""
        self.failing_since = self.failing_since or now
        if now - self.failing_since >= policy.failing_for:
            self.disable(DisabledReason.SUSTAINED_FAILURE, now)

    def gave_up(self, now: dt.datetime, policy: DisablePolicy) -> None:
        """A delivery ran out of retries; too many in a row disables the endpoint."""
        self.exhausted_in_a_row += 1
        if policy.exhausted_in_a_row and self.exhausted_in_a_row >= policy.exhausted_in_a_row:
            self.disable(DisabledReason.DELIVERIES_EXHAUSTED, now)


@dataclass(frozen=True)
class ReferralNotice:
    """A referral event as a webhook tells it: its id (the `webhook-id`), type, referral, provider, status, time."""

    event_id: str
    event_type: WebhookEventType
    referral_id: str
    provider_id: str
    status: str | None
    at: dt.datetime

    def body(self) -> str:
        """The thin payload, as signed and sent (the same bytes on every attempt)."""
        at = self.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        return json.dumps({"type": str(self.event_type), "timestamp": at,
                           "data": {"referral_id": self.referral_id, "status": self.status}},
                          separators=(",", ":"))


@dataclass(frozen=True)
class Attempt:
    """One try at a delivery: when, the answer's status code (None: no answer), how long it took, what failed."""

    number: int
    at: dt.datetime
    status_code: int | None
    duration_ms: int
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        """Only a 2xx answer counts."""
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class AttemptOutcome:
    """What the sender saw: a status code or an error (a timeout, a refused destination), and any Retry-After."""

    status_code: int | None
    duration_ms: int
    error: str | None = None
    retry_after: dt.timedelta | None = None


@dataclass
class WebhookDelivery:
    """One event to one endpoint, with every attempt at it; `retry_from` attempts came before the last redelivery."""

    delivery_id: str
    endpoint_id: str
    provider_id: str
    event_id: str
    event_type: WebhookEventType
    body: str
    created_at: dt.datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    next_attempt_at: dt.datetime | None = None
    attempts: list[Attempt] = field(default_factory=list)
    retry_from: int = 0

    def record(self, outcome: AttemptOutcome, now: dt.datetime, endpoint: Endpoint, *, schedule: RetrySchedule,
               policy: DisablePolicy, draw: float) -> Attempt:
        """Log an attempt and decide what follows: done on 2xx, the endpoint disabled on 410, else the next try."""
        error = outcome.error[:ERROR_LENGTH] if outcome.error else None
        attempt = Attempt(len(self.attempts) + 1, now, outcome.status_code, outcome.duration_ms, error)
        self.attempts.append(attempt)
        if attempt.succeeded:
            self.status, self.next_attempt_at = DeliveryStatus.SUCCEEDED, None
            endpoint.answered()
        elif outcome.status_code == 410:
            self.status, self.next_attempt_at = DeliveryStatus.FAILED, None
            endpoint.disable(DisabledReason.GONE, now)
        else:
            endpoint.failed(now, policy)
            self.next_attempt_at = schedule.next_attempt_at(len(self.attempts) - self.retry_from, now,
                                                            outcome.retry_after, draw)
            if self.next_attempt_at is None:
                self.status = DeliveryStatus.FAILED
                endpoint.gave_up(now, policy)
        return attempt

    def redeliver(self, endpoint: Endpoint, now: dt.datetime) -> None:
        """Send again now, with a fresh retry schedule (to an enabled endpoint only)."""
        if endpoint.status is not EndpointStatus.ENABLED:
            raise Conflict("endpoint", "the endpoint is disabled: enable it first")
        self.status, self.next_attempt_at, self.retry_from = DeliveryStatus.PENDING, now, len(self.attempts)


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery as the sender needs it: where, the `number`-th attempt, the id, body and signing secrets."""

    delivery_id: str
    number: int
    url: str
    event_id: str
    body: str
    secrets: tuple[str, ...]


def deliveries_for(notice: ReferralNotice, endpoints: Iterable[Endpoint], new_id: Callable[[], str],
                   now: dt.datetime) -> list[WebhookDelivery]:
    """A delivery, due now, for each of the notice's provider's endpoints that wants the event."""
    return [WebhookDelivery(new_id(), e.endpoint_id, e.provider_id, notice.event_id, notice.event_type,
                            notice.body(), now, next_attempt_at=now)
            for e in endpoints if e.provider_id == notice.provider_id and e.wants(notice.event_type)]
