"""What happened to providers and referrals, in the domain's words, past tense; pseudonymous (ids, codes, never a
child's details). Collected on the aggregates for the handlers to publish; the wire versions belong to
`adapters.contract_mapping`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ProviderEvent:
    """Base of the provider events: which provider, who, when."""

    provider_id: str
    by: str
    at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class ProviderRegistered(ProviderEvent):
    """A provider joined the directory."""

    organisation: str
    provider_type: str
    districts: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class ProviderDetailsChanged(ProviderEvent):
    """The provider's districts, contacts or service catalogue changed."""

    districts: frozenset[str]
    catalogue: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class CapacityChanged(ProviderEvent):
    """The provider's capacity status changed."""

    capacity: str


@dataclass(frozen=True, kw_only=True)
class ProviderVetted(ProviderEvent):
    """A vetting was recorded: its score as of the day it was recorded."""

    vetting_id: str
    total: int
    recommendation: str


@dataclass(frozen=True, kw_only=True)
class ProviderRescored(ProviderEvent):
    """The current vetting scores differently on `on` (a document expired or became valid)."""

    vetting_id: str
    on: dt.date
    previous_total: int
    total: int
    recommendation: str


@dataclass(frozen=True, kw_only=True)
class AgreementChanged(ProviderEvent):
    """An agreement was recorded or amended."""

    agreement_id: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date
    service_types: frozenset[str]
    districts: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class ProviderSuspended(ProviderEvent):
    """The provider may not receive referrals until reinstated; its open referrals go back to the district."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class ProviderReinstated(ProviderEvent):
    """A suspended provider is active again."""


@dataclass(frozen=True, kw_only=True)
class ProviderOffboarded(ProviderEvent):
    """The provider left the directory for good; its open referrals go back to the district."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class ReferralEvent:
    """Base of the referral events: which referral, to which provider, who, when."""

    referral_id: str
    provider_id: str
    by: str
    at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class ReferralIssued(ReferralEvent):
    """A child was referred to a provider (on recorded consent, or on an officer's override)."""

    child_id: str
    person_id: str
    district: str
    service_types: tuple[str, ...]
    consent_overridden: bool
    previous_referral_id: str | None


@dataclass(frozen=True, kw_only=True)
class ReferralAcknowledged(ReferralEvent):
    """The provider saw the referral."""


@dataclass(frozen=True, kw_only=True)
class ReferralAccepted(ReferralEvent):
    """The provider will serve the child."""


@dataclass(frozen=True, kw_only=True)
class ReferralDeclined(ReferralEvent):
    """The provider will not serve the child, and why."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class ServiceStarted(ReferralEvent):
    """The provider began serving the child."""


@dataclass(frozen=True, kw_only=True)
class ServiceRecorded(ReferralEvent):
    """A service was delivered to the child (attendance and outcome as codes; notes stay in referral)."""

    service_type: str
    delivered_on: dt.date
    record_id: str | None = None
    attendance: str | None = None
    outcome: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReferralCompleted(ReferralEvent):
    """The loop is closed: the services were delivered."""


@dataclass(frozen=True, kw_only=True)
class ReferralRevoked(ReferralEvent):
    """The referral was withdrawn from the provider, and why (the provider is told)."""

    reason: str
    note: str


@dataclass(frozen=True, kw_only=True)
class ReferralExpired(ReferralEvent):
    """No answer came in time."""


@dataclass(frozen=True, kw_only=True)
class ReferralOverdue(ReferralEvent):
    """A response deadline passed without the step it asked for."""

    deadline_id: str
    step: str
    due_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class ReferralEscalated(ReferralEvent):
    """The referral went to the district queue for want of an answer."""

    deadline_id: str
    due_at: dt.datetime


@dataclass(frozen=True, kw_only=True)
class ReferralPersonChanged(ReferralEvent):
    """Identity merged or unmerged the child's person: the referral follows it."""

    previous_person_id: str
    person_id: str
    merge_id: str
