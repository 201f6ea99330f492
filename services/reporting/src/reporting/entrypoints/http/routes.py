"""Reporting HTTP routes: aggregated indicators only, never a child's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from reporting.config import ReportingSettings
from reporting.service_layer import indicators
from simpul_platform.auth import Principal, Role, require
from simpul_platform.runtime import ServiceRuntime

router = APIRouter(prefix="/indicators", tags=["indicators"])
Reader = Annotated[Principal, Depends(require(Role.MINISTRY, Role.DISTRICT_OFFICER, Role.SERVICE))]


class VillageCount(BaseModel):
    """Registered children (distinct persons) in one village."""

    village_code: str
    children: int | None = Field(description="Null when suppressed")
    suppressed: bool


class RegisteredChildren(BaseModel):
    """The registered-children indicator by village."""

    min_cell_size: int
    villages: list[VillageCount]


@router.get("/registered-children", response_model=RegisteredChildren, summary="Registered children by village")
async def registered_children(principal: Reader, request: Request) -> RegisteredChildren:
    """Distinct persons per village; counts under the minimum cell size are suppressed."""
    runtime: ServiceRuntime = request.app.state.runtime
    settings = runtime.settings
    assert isinstance(settings, ReportingSettings)
    async with runtime.database.session() as session:
        cells = await indicators.registered_children_by_village(session, settings.min_cell_size)
    visible = [c for c in cells if principal.role is Role.MINISTRY or principal.covers_region(c.region_code)]
    return RegisteredChildren(
        min_cell_size=settings.min_cell_size,
        villages=[VillageCount(village_code=c.region_code, children=c.count, suppressed=c.suppressed) for c in visible],
    )
