"""District API: a referred child's minimal details (name, sex, age, village, guardians' contact; never NIK or KK),
for a district officer of the child's district, every read audited with the `X-Access-Reason` given."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from pydantic import BaseModel, Field

from referral.domain.child_details import ChildDetails
from referral.domain.commands.child_details import ReadChildDetails
from referral.service_layer.handlers.child_details import read_child_details
from simpul_platform.auth import Principal, Role, require
from simpul_platform.unit_of_work import execute

router = APIRouter(tags=["child details"])
Officer = Annotated[Principal, Depends(require(Role.DISTRICT_OFFICER))]
ChildId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$", description="The registry's child id")]
AccessReason = Annotated[str | None, Header(alias="X-Access-Reason", max_length=500)]


class GuardianRead(BaseModel):
    """A guardian to contact."""

    name: str
    relationship: str
    phone: str | None = None


class ChildDetailsRead(BaseModel):
    """What a provider needs to serve the child, and nothing more."""

    child_id: str
    full_name: str
    sex: str
    age: int | None = Field(description="Completed years today; null when the birth date is unknown.")
    age_is_approximate: bool = Field(description="The registry knows only the birth year or month.")
    village_code: str
    guardians: list[GuardianRead]
    consent_given_on: dt.date


def _view(details: ChildDetails, today: dt.date) -> ChildDetailsRead:
    return ChildDetailsRead(
        child_id=details.child_id, full_name=details.full_name, sex=details.sex, age=details.age_on(today),
        age_is_approximate=details.birth_date_precision not in (None, "day"), village_code=details.village_code,
        guardians=[GuardianRead(name=g.name, relationship=g.relationship, phone=g.phone) for g in details.guardians],
        consent_given_on=details.consent_given_on)


@router.get("/children/{child_id}/details", response_model=ChildDetailsRead,
            summary="A referred child's minimal details (audited)")
async def child_details(child_id: ChildId, principal: Officer, request: Request,
                        reason: AccessReason = None) -> ChildDetailsRead:
    """The minimal details while the guardian's consent for referral holds; 404 outside your district, after a
    withdrawal or after the retention."""
    wiring = request.app.state.wiring
    today = wiring.clock().date()
    details = await execute(wiring.unit_of_work(), read_child_details,
                            ReadChildDetails(principal, child_id, today, reason))
    return _view(details, today)
