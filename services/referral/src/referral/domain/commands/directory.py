"""Commands of the `directory` area (see `referral.service_layer.handlers`): the provider directory, vetting,
agreements, suspension and offboarding, and the service-type code list.

Each write names who asks (`by`, a `Caller`: permissions and district scope are checked by the handler) and the
moment it happens (`at`, from the service's injectable clock), so handlers never read the time themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from referral.domain.agreements import AgreementKind
from referral.domain.providers import Capacity, Contact, ProviderStatus, ProviderType
from referral.domain.service_types import ListedServiceType
from referral.domain.vetting import LegalDocument, YearsWithChildren
from simpul_platform.callers import Caller


@dataclass(frozen=True)
class ProviderDetails:
    """What a district officer records about a provider besides its name and type."""

    districts: frozenset[str]
    contacts: tuple[Contact, ...] = ()
    catalogue: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RegisterProvider:
    """Add a provider to the directory."""

    by: Caller
    organisation: str
    provider_type: ProviderType
    details: ProviderDetails
    at: dt.datetime


@dataclass(frozen=True)
class ChangeProviderDetails:
    """Replace a provider's districts, contacts and service catalogue."""

    by: Caller
    provider_id: str
    details: ProviderDetails
    at: dt.datetime


@dataclass(frozen=True)
class SetCapacity:
    """Record whether the provider can take more children."""

    by: Caller
    provider_id: str
    capacity: Capacity
    at: dt.datetime


@dataclass(frozen=True)
class ReadProvider:
    """One provider in the caller's scope."""

    by: Caller
    provider_id: str


@dataclass(frozen=True)
class ProviderFilters:
    """What narrows a search of providers (within the caller's scope); a page ordered by id, after `after`."""

    district: str | None = None
    service_type: str | None = None
    capacity: Capacity | None = None
    status: ProviderStatus | None = None
    organisation: str | None = None
    after: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class SearchProviders:
    """Providers in the caller's scope answering the filters."""

    by: Caller
    filters: ProviderFilters = ProviderFilters()


@dataclass(frozen=True)
class Scores:
    """The checklist's scores other than legality (which the documents give)."""

    track_record: int
    vision_and_mission: int
    child_orientation: int
    years_with_children: YearsWithChildren


@dataclass(frozen=True)
class RecordVetting:
    """Record a vetting of the provider by the KPAI checklist: its documents, scores, evidence and notes."""

    by: Caller
    provider_id: str
    documents: tuple[LegalDocument, ...]
    scores: Scores
    at: dt.datetime
    evidence: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class AgreementTerms:
    """An MoU or PKS as signed."""

    kind: AgreementKind
    document_reference: str
    starts_on: dt.date
    ends_on: dt.date
    service_types: frozenset[str]
    districts: frozenset[str]


@dataclass(frozen=True)
class RecordAgreement:
    """Record a new agreement (`agreement_id` None) or amend one of the provider's agreements."""

    by: Caller
    provider_id: str
    terms: AgreementTerms
    at: dt.datetime
    agreement_id: str | None = None


@dataclass(frozen=True)
class SuspendProvider:
    """Stop referrals to the provider; its open referrals go back to the district queue."""

    by: Caller
    provider_id: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class ReinstateProvider:
    """Let a suspended provider receive referrals again."""

    by: Caller
    provider_id: str
    at: dt.datetime


@dataclass(frozen=True)
class OffboardProvider:
    """Take the provider out of the directory for good; its open referrals go back to the district queue."""

    by: Caller
    provider_id: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class RescoreDueProviders:
    """Re-score, as of `on`, the providers a document of whose current vetting starts or stops counting by then
    (the rescoring job's round; `limit` providers at most)."""

    on: dt.date
    at: dt.datetime
    limit: int = 100


@dataclass(frozen=True)
class ImportServiceTypes:
    """Import the whole new service-type code list (codes missing from it are retired, never deleted)."""

    by: Caller
    rows: tuple[ListedServiceType, ...]
    at: dt.datetime


@dataclass(frozen=True)
class ReadServiceTypes:
    """The service-type code list, retired codes included."""
