"""The referral lifecycle's vocabulary: statuses, which are open, the steps and service records it keeps.

issued -> acknowledged -> accepted | declined (reason) -> in_service -> completed | revoked (reason) | expired.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import TypedDict

from referral.domain.agreements import require_districts
from referral.domain.consent import ConsentBasis
from referral.domain.errors import require, require_aware
from referral.domain.overrides import Override
from referral.domain.service_records import Attachment, Attendance, Outcome, check_details
from referral.domain.service_types import level_of


class ReferralStatus(enum.StrEnum):
    """Where a referral stands."""

    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    REVOKED = "revoked"
    EXPIRED = "expired"


S = ReferralStatus
OPEN = frozenset({S.ISSUED, S.ACKNOWLEDGED, S.ACCEPTED, S.IN_SERVICE})
"""Not yet closed: the provider still holds the referral."""
AWAITING_ANSWER = frozenset({S.ISSUED, S.ACKNOWLEDGED})
"""The provider has not accepted or declined: the response deadlines run."""
REREFERABLE = frozenset({S.DECLINED, S.EXPIRED, S.REVOKED})
"""Closed without the service: the child may be referred again, the history linked."""


class RevocationReason(enum.StrEnum):
    """Why a referral was taken back from its provider."""

    CONSENT_WITHDRAWN = "consent_withdrawn"
    PROVIDER_SUSPENDED = "provider_suspended"
    PROVIDER_OFFBOARDED = "provider_offboarded"
    CASE_CLOSED = "case_closed"
    DISTRICT_DECISION = "district_decision"


class DeclineReason(enum.StrEnum):
    """Why a provider declined, as a code (the wire carries no free text): no place now, the service asked for is
    not one it gives, the child or family could not be reached, the family refused the service, the child does not
    meet the provider's criteria, or another reason the provider tells the district."""

    NO_CAPACITY = "no_capacity"
    SERVICE_NOT_OFFERED = "service_not_offered"
    UNREACHABLE = "unreachable"
    FAMILY_REFUSED = "family_refused"
    NOT_ELIGIBLE = "not_eligible"
    OTHER = "other"


SYSTEM = "system"
"""Who acts when a rule does (a deadline, a consent withdrawal, a provider's suspension, a case closure)."""


@dataclass(frozen=True)
class Step:
    """One step of the lifecycle: the status reached, who, when, and why when it takes a reason."""

    status: ReferralStatus
    by: str
    at: dt.datetime
    reason: str = ""

    def __post_init__(self) -> None:
        require(bool(self.by.strip()), "by", "every step names who took it")
        require_aware(self.at, "at")


@dataclass(frozen=True)
class ServiceRecord:
    """A service delivered to the child under the referral: its type and day, attendance and outcome (code lists
    of `service_records`), notes (bounded) and attachments by reference; `record_id` names it (empty on records
    kept before records had ids)."""

    service_type: str
    delivered_on: dt.date
    recorded_by: str
    recorded_at: dt.datetime
    notes: str = ""
    attendance: Attendance = Attendance.ATTENDED
    outcome: Outcome | None = None
    attachments: tuple[Attachment, ...] = ()
    record_id: str = ""

    def __post_init__(self) -> None:
        require(bool(self.recorded_by.strip()), "recorded_by", "a service record names who recorded it")
        require_aware(self.recorded_at, "recorded_at")
        check_details(self.attendance, self.outcome, self.notes, self.attachments)


@dataclass(frozen=True)
class ReferralRequest:
    """What a referral is issued for: the child, the services, the consent it rests on."""

    referral_id: str
    child_id: str
    person_id: str
    district: str
    service_types: tuple[str, ...]
    consent: ConsentBasis
    capacity_override: Override | None = None

    @property
    def consent_overridden(self) -> bool:
        """Whether the referral rests on an officer's override rather than recorded consent."""
        return isinstance(self.consent, Override)

    def __post_init__(self) -> None:
        require(bool(self.service_types), "service_types", "a referral asks for at least one service")
        require(len(set(self.service_types)) == len(self.service_types), "service_types", "a service is listed twice")
        for code in self.service_types:
            level_of(code)
        require_districts(frozenset({self.district}), "district")


class About(TypedDict):
    """The fields every referral event starts with."""

    referral_id: str
    provider_id: str
    by: str
    at: dt.datetime
