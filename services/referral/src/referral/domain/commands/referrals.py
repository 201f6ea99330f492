"""Commands of the `referrals` area (see `referral.service_layer.handlers`): issue a referral through the gates,
take it along its lifecycle, read and search it, and record the guardians' consent decisions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from referral.domain.consent import ConsentState
from referral.domain.lifecycle import DeclineReason, ReferralStatus, RevocationReason
from simpul_platform.callers import Caller


@dataclass(frozen=True)
class IssueReferral:
    """Refer a child (registry child id and person id, of a district) to a provider for one or more services.

    Without recorded consent, `consent_override_reason` is the officer's written reason to refer anyway; a provider
    at full capacity takes the referral only with `capacity_override_reason`. `previous_referral_id` names the
    declined, expired or revoked referral this one follows.
    """

    by: Caller
    referral_id: str
    child_id: str
    person_id: str
    district: str
    provider_id: str
    service_types: tuple[str, ...]
    at: dt.datetime
    consent_override_reason: str | None = None
    capacity_override_reason: str | None = None
    previous_referral_id: str | None = None


@dataclass(frozen=True)
class Step:
    """Base of the lifecycle commands: who moves which referral, when, and the version they read (If-Match)."""

    by: Caller
    referral_id: str
    at: dt.datetime
    expected_version: int | None = None


@dataclass(frozen=True)
class AcknowledgeReferral(Step):
    """Record that the provider saw the referral."""


@dataclass(frozen=True)
class AcceptReferral(Step):
    """Record that the provider will serve the child."""


@dataclass(frozen=True, kw_only=True)
class DeclineReferral(Step):
    """Record that the provider will not serve the child, and why (a code)."""

    reason: DeclineReason


@dataclass(frozen=True)
class StartService(Step):
    """Record that the provider began serving the child."""


@dataclass(frozen=True, kw_only=True)
class RecordService(Step):
    """Record a service delivered under the referral (a district officer may record one)."""

    service_type: str
    delivered_on: dt.date
    notes: str = ""


@dataclass(frozen=True)
class CompleteReferral(Step):
    """Close the loop: the services were delivered (needs at least one service record)."""


@dataclass(frozen=True, kw_only=True)
class RevokeReferral(Step):
    """Take the referral back from its provider, by the district's decision, with a written note."""

    note: str
    reason: RevocationReason = RevocationReason.DISTRICT_DECISION


@dataclass(frozen=True)
class ReadReferral:
    """One referral in the caller's scope (audited: it names a child); `reason` says why the caller reads it."""

    by: Caller
    referral_id: str
    reason: str | None = None


@dataclass(frozen=True)
class SearchReferrals:
    """The referrals in the caller's scope, optionally by status, provider, child or person (audited)."""

    by: Caller
    status: ReferralStatus | None = None
    provider_id: str | None = None
    child_id: str | None = None
    person_id: str | None = None
    limit: int = 100
    offset: int = 0
    reason: str | None = None


@dataclass(frozen=True)
class ReadDistrictQueue:
    """The district queue in the caller's scope: re-routed, overdue, declined and expired referrals (audited)."""

    by: Caller
    limit: int = 100
    reason: str | None = None


@dataclass(frozen=True)
class RecordConsentDecisions:
    """The registry recorded guardians' decisions on consent for referral (one run of its events, in order); a
    withdrawal revokes the child's open referrals at `at`."""

    decisions: tuple[ConsentState, ...]
    at: dt.datetime
