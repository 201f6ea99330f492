"""Registry HTTP route: erase a child's identifying data (district officers only; audited with the reason)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from registry.domain.commands import EraseChild
from registry.domain.erasure import ErasureReason
from registry.entrypoints.http import edge
from registry.entrypoints.http.edge import ChildId
from registry.entrypoints.http.schemas import NO_NUL
from registry.service_layer.handlers import erasure
from simpul_platform.auth import Principal, require

router = APIRouter(prefix="/children", tags=["erasure"])
DistrictOfficer = Annotated[Principal, Depends(require(*erasure.MAY_ERASE))]


class ErasureCreate(BaseModel):
    """Why the child's data is erased: the words stay in the registry's audit log, the code is published."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, pattern=NO_NUL,
                        description="Why (e.g. the request's reference); audited, never published.")
    reason_code: ErasureReason = Field(default=ErasureReason.DATA_SUBJECT_REQUEST,
                                       description="The reason as a code, published in ChildErasedV1.")


class ErasureRead(BaseModel):
    """What was erased and when."""

    child_id: str
    erased_at: AwareDatetime
    reason_code: ErasureReason
    erased: list[str] = Field(description="What the registry erased; other services erase theirs on ChildErasedV1.")


ERASED = ["full_name", "aliases", "mother_name", "nik", "kk_number", "guardians", "identity_warnings",
          "birth_date (day and month; the year stays)", "work.tasks", "case reasons", "visit notes",
          "visit work activities", "stored Idempotency-Key answers"]


@router.post("/{child_id}/erasure", response_model=ErasureRead, summary="Erase a child's identifying data",
             responses={409: {"description": "The child's data was already erased"}})
async def erase_child(child_id: ChildId, body: ErasureCreate, principal: DistrictOfficer,
                      request: Request) -> ErasureRead:
    """Erase the child's names, numbers, contacts, exact birth date and free texts here, and, through the
    ChildErasedV1 event, in every service; tombstones remove the child from the restricted topics. Sex, village,
    birth year and the case's statuses stay, so counts stay right. The record then takes no change (409)."""
    command = EraseChild(principal, child_id, body.reason, body.reason_code, dt.datetime.now(dt.UTC))
    done = await edge.run(request, erasure.erase_child, command)
    return ErasureRead(child_id=done.child_id, erased_at=done.erased_at, reason_code=body.reason_code,
                       erased=ERASED)
