"""Events the referral service publishes about providers (pseudonymous: ids, codes and timestamps, never a child's
details or free text).

All on `referral.provider.v1`, keyed by provider id, so one provider's events stay in order. Each names who made
the change (`recorded_by`, an opaque actor id; `referral:rescoring` for the service's own rescoring job) and when
(`recorded_at`). The organisation's name is public; its contacts and the reasons officers write stay in referral.

The code lists below mirror referral's domain codes but belong to the contract: add members, never rename or reuse
a value.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, ClassVar

from pydantic import AwareDatetime, Field, StringConstraints

from simpul_contracts.event import DataClass, Event
from simpul_contracts.events.common import ActorId, Id

__all__ = [
    "ProviderAgreementChangedV1", "ProviderCapacityChangedV1", "ProviderDetailsChangedV1", "ProviderOffboardedV1",
    "ProviderRegisteredV1", "ProviderReinstatedV1", "ProviderRescoredV1", "ProviderSuspendedV1", "ProviderVettedV1",
]

DistrictCode = Annotated[
    str,
    StringConstraints(pattern=r"^\d{2}\.\d{2}$"),
    Field(description="Kemendagri district (kabupaten/kota) code PP.RR", examples=["35.09"]),
]
ServiceTypeCode = Annotated[
    str,
    StringConstraints(pattern=r"^(child|household|community)\.[a-z][a-z0-9_]{1,58}$"),
    Field(description="A code of referral's versioned service-type list, <level>.<type>",
          examples=["child.school_re_entry"]),
]
ORGANISATION_NAME = r"^[^@\x00-\x1f]+$"
"""An organisation's name: no e-mail address (no '@'), no control characters."""
Total = Annotated[int, Field(ge=0, le=11, description="The KPAI checklist total, 0-11")]


class ProviderType(enum.StrEnum):
    """What kind of organisation the provider is."""

    SCHOOL = "school"
    VOCATIONAL_CENTRE = "vocational_centre"
    PUSKESMAS = "puskesmas"
    SOCIAL_SERVICE = "social_service"
    NGO = "ngo"
    OTHER = "other"


class ProviderCapacity(enum.StrEnum):
    """Whether the provider can take more children: `available`, `limited`, or `full` (a referral then needs an
    officer's override)."""

    AVAILABLE = "available"
    LIMITED = "limited"
    FULL = "full"


class VettingRecommendation(enum.StrEnum):
    """What the checklist total means: 9-11 `recommended`, 6-8 `may_be_recommended` (may receive referrals),
    0-5 `not_recommended`."""

    RECOMMENDED = "recommended"
    MAY_BE_RECOMMENDED = "may_be_recommended"
    NOT_RECOMMENDED = "not_recommended"


class AgreementKind(enum.StrEnum):
    """The cooperation document: `mou` (general, over a year) or `pks` (detailed, with a programme matrix)."""

    MOU = "mou"
    PKS = "pks"


class _ProviderEvent(Event):
    """Fields of every provider event."""

    topic: ClassVar[str] = "referral.provider.v1"
    source: ClassVar[str] = "simpul/referral"
    data_class: ClassVar[DataClass] = DataClass.PSEUDONYMOUS

    provider_id: Id = Field(description="Opaque provider id")
    recorded_by: ActorId
    recorded_at: AwareDatetime = Field(description="When referral recorded the change")

    @property
    def key(self) -> str:
        """Keyed by provider id."""
        return self.provider_id


class ProviderRegisteredV1(_ProviderEvent):
    """A provider joined the directory, active (it still needs a vetting and an agreement to receive referrals)."""

    event_type: ClassVar[str] = "simpul.referral.provider-registered.v1"

    organisation: str = Field(min_length=1, max_length=200, pattern=ORGANISATION_NAME,
                              description="The organisation's public name (never an e-mail address)")
    provider_type: ProviderType
    districts: list[DistrictCode] = Field(min_length=1, description="The districts it serves, in code order")


class ProviderDetailsChangedV1(_ProviderEvent):
    """The provider's districts, contacts or service catalogue changed (contacts themselves stay in referral)."""

    event_type: ClassVar[str] = "simpul.referral.provider-details-changed.v1"

    districts: list[DistrictCode] = Field(min_length=1, description="The districts it serves now, in code order")
    catalogue: list[ServiceTypeCode] = Field(description="The service types it offers now, in code order")


class ProviderCapacityChangedV1(_ProviderEvent):
    """The provider's capacity status changed."""

    event_type: ClassVar[str] = "simpul.referral.provider-capacity-changed.v1"

    capacity: ProviderCapacity


class ProviderVettedV1(_ProviderEvent):
    """A vetting by the KPAI checklist was recorded: its total and recommendation on the day it was made."""

    event_type: ClassVar[str] = "simpul.referral.provider-vetted.v1"

    vetting_id: Id
    total: Total
    recommendation: VettingRecommendation


class ProviderRescoredV1(_ProviderEvent):
    """The provider's current vetting scores differently from `on`: a document of legality expired or became
    valid that day (the rescoring job publishes this once per change)."""

    event_type: ClassVar[str] = "simpul.referral.provider-rescored.v1"

    vetting_id: Id
    on: dt.date = Field(description="The day from which the new score holds")
    previous_total: Total
    total: Total
    recommendation: VettingRecommendation


class ProviderAgreementChangedV1(_ProviderEvent):
    """An agreement (MoU or PKS) was recorded or amended: its period and what it covers."""

    event_type: ClassVar[str] = "simpul.referral.provider-agreement-changed.v1"

    agreement_id: Id
    kind: AgreementKind
    starts_on: dt.date = Field(description="First day in force")
    ends_on: dt.date = Field(description="Last day in force (included)")
    service_types: list[ServiceTypeCode] = Field(min_length=1, description="In code order")
    districts: list[DistrictCode] = Field(min_length=1, description="In code order")


class ProviderSuspendedV1(_ProviderEvent):
    """The provider may not receive referrals until reinstated; its open referrals went back to the district
    queue (each announced on referral.referral.v1)."""

    event_type: ClassVar[str] = "simpul.referral.provider-suspended.v1"


class ProviderReinstatedV1(_ProviderEvent):
    """A suspended provider may receive referrals again."""

    event_type: ClassVar[str] = "simpul.referral.provider-reinstated.v1"


class ProviderOffboardedV1(_ProviderEvent):
    """The provider left the directory for good; its open referrals went back to the district queue."""

    event_type: ClassVar[str] = "simpul.referral.provider-offboarded.v1"
