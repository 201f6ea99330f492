"""What reporting keeps of the events it counts: one fact per event, kept as it came (pure Python).

Facts are idempotent by event id and carry their own time, so the indicators computed from them do not depend on
the order events arrived in: a child's current state is its latest fact by (time, event id), a referral's and a
provider's state likewise. Nothing here identifies a child: ids are the services' opaque ids, attributes are the
pseudonymous topic's (sex, birth year, village code).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class ChildEventKind(enum.StrEnum):
    """The child events reporting counts (`registry.child.v1`)."""

    REGISTERED = "registered"
    UPDATED = "updated"
    CLASSIFIED = "classified"
    STATUS_CHANGED = "status_changed"
    CONSENT_CHANGED = "consent_changed"
    VISITED = "visited"


@dataclass(frozen=True)
class ChildEvent:
    """One event of `registry.child.v1` with the child's pseudonymous state after it.

    `occurred_at` is the event's own business time (registered, classified, changed, visited on), which places
    it in a month; `stamp` is when it was published, which orders a child's states.
    """

    event_id: str
    kind: ChildEventKind
    child_id: str
    person_id: str | None
    sex: str
    birth_year: int | None
    village_code: str
    case_id: str | None
    classification: str | None
    status: str | None
    occurred_at: dt.datetime
    stamp: dt.datetime
    previous_status: str | None = None
    closure_reason: str | None = None
    child_working: bool | None = None


@dataclass(frozen=True)
class Merge:
    """A merge of identity's persons: the retired person is the surviving one until the merge is undone."""

    merge_id: str
    retired_person_id: str
    surviving_person_id: str
    undone: bool


class ReferralStep(enum.StrEnum):
    """The referral events reporting counts (`referral.referral.v1`)."""

    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    SERVICE_STARTED = "service_started"
    SERVICE_RECORDED = "service_recorded"
    COMPLETED = "completed"
    REVOKED = "revoked"
    EXPIRED = "expired"
    OVERDUE = "overdue"
    ESCALATED = "escalated"
    PERSON_CHANGED = "person_changed"


@dataclass(frozen=True)
class ReferralEvent:
    """One referral event: issued ones name the child, district and service types; a recorded service its type."""

    event_id: str
    referral_id: str
    provider_id: str
    step: ReferralStep
    at: dt.datetime
    child_id: str | None = None
    district: str | None = None
    service_types: tuple[str, ...] = ()
    reason: str | None = None
    delivered_on: dt.date | None = None


class ProviderStep(enum.StrEnum):
    """The provider events reporting counts (`referral.provider.v1`)."""

    REGISTERED = "registered"
    DETAILS_CHANGED = "details_changed"
    VETTED = "vetted"
    AGREEMENT_CHANGED = "agreement_changed"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    OFFBOARDED = "offboarded"
    OTHER = "other"


@dataclass(frozen=True)
class ProviderEvent:
    """One provider event; a vetting or rescoring carries its recommendation, an agreement its period."""

    event_id: str
    provider_id: str
    step: ProviderStep
    recorded_at: dt.datetime
    districts: tuple[str, ...] = ()
    recommendation: str | None = None
    agreement_id: str | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None


def latest(events: list[ChildEvent]) -> ChildEvent:
    """A child's latest event: the one published last (ties by event id, so every replay agrees)."""
    return max(events, key=lambda event: (event.stamp, event.event_id))
