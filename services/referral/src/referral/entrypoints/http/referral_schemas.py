"""The district API's referral bodies and views (HTTP schemas: neither domain objects nor wire contracts)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from referral.adapters.referral_repository import Queued
from referral.domain.district_queue import QueueReason
from referral.domain.lifecycle import DeclineReason, ReferralStatus
from referral.domain.referrals import Referral

OPAQUE_ID = r"^[A-Za-z0-9._:-]+$"
Id = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=OPAQUE_ID)]
LongId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=OPAQUE_ID)]
District = Annotated[str, StringConstraints(pattern=r"^\d{2}\.\d{2}$"), Field(examples=["35.09"])]
ServiceType = Annotated[str, StringConstraints(pattern=r"^(child|household|community)\.[a-z][a-z0-9_]{1,58}$"),
                        Field(examples=["child.school_re_entry"])]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"^[^\x00]*$")]
Note = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")]


class Body(BaseModel):
    """Every body refuses fields it does not know."""

    model_config = ConfigDict(extra="forbid")


class ReferralCreate(Body):
    """Refer a child to a provider."""

    child_id: Id = Field(description="The registry's child id.")
    person_id: LongId = Field(description="The identity service's person id of the child.")
    district: District = Field(description="The child's district (kabupaten/kota) code.")
    provider_id: LongId
    service_types: list[ServiceType] = Field(min_length=1, max_length=20)
    consent_override_reason: Reason | None = Field(
        default=None, description="Without recorded consent for referral: why you refer anyway (district officers "
                                  "only; audited).")
    capacity_override_reason: Reason | None = Field(
        default=None, description="To refer to a provider at full capacity: why (district officers only; audited).")
    previous_referral_id: LongId | None = Field(
        default=None, description="The declined, expired or revoked referral this one follows.")


class DeclineIn(Body):
    """Why the provider declines, as a code."""

    reason: DeclineReason


class ServiceRecordIn(Body):
    """A service delivered under the referral."""

    service_type: ServiceType
    delivered_on: dt.date
    notes: Note = ""


class RevokeIn(Body):
    """Why the district takes the referral back (kept in referral, never on the wire)."""

    note: Reason


class StepRead(BaseModel):
    """One step of the lifecycle."""

    status: ReferralStatus
    by: str
    at: dt.datetime
    reason: str = ""


class ServiceRecordRead(BaseModel):
    """A service recorded on the referral."""

    service_type: str
    delivered_on: dt.date
    recorded_by: str
    recorded_at: dt.datetime
    notes: str


class ReferralRead(BaseModel):
    """A referral as the district sees it: ids and codes (the child's details are read from the vault)."""

    referral_id: str
    child_id: str
    person_id: str
    district: str
    provider_id: str
    service_types: list[str]
    status: ReferralStatus
    consent_overridden: bool
    previous_referral_id: str | None
    case_closed: bool
    history: list[StepRead]
    service_records: list[ServiceRecordRead]
    version: int


class QueuedRead(BaseModel):
    """A referral in the district queue, and why it is there."""

    reason: QueueReason
    referral: ReferralRead


def referral_view(referral: Referral) -> ReferralRead:
    """The referral as the API shows it."""
    return ReferralRead(**referral_fields(referral))


def referral_fields(referral: Referral) -> dict[str, Any]:
    """The fields of `ReferralRead`, for the views that show a referral with more (validated once, by the view: a
    view rebuilt from another view's `model_dump` took most of a sync page's time)."""
    request = referral.request
    return {
        "referral_id": referral.referral_id, "child_id": request.child_id, "person_id": referral.person_id,
        "district": request.district, "provider_id": referral.provider_id,
        "service_types": list(request.service_types), "status": referral.status,
        "consent_overridden": request.consent_overridden, "previous_referral_id": referral.previous_referral_id,
        "case_closed": referral.case_closed,
        "history": [StepRead(status=s.status, by=s.by, at=s.at, reason=s.reason) for s in referral.history],
        "service_records": [ServiceRecordRead(service_type=r.service_type, delivered_on=r.delivered_on,
                                              recorded_by=r.recorded_by, recorded_at=r.recorded_at, notes=r.notes)
                            for r in referral.service_records],
        "version": referral.version}


def queued_view(queued: Queued) -> QueuedRead:
    """A queue entry as the API shows it."""
    return QueuedRead(reason=queued.reason, referral=referral_view(queued.referral))
