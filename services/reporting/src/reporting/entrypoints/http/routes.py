"""Reporting HTTP routes: aggregated indicators only, never a child's identity."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from reporting.config import ReportingSettings
from reporting.domain.commands import CountRegisteredChildren
from reporting.domain.model import Scope
from reporting.service_layer.handlers import count_registered_children
from reporting.service_layer.unit_of_work import ReportingUnitOfWork
from simpul_platform.auth import Principal, Role, require
from simpul_platform.unit_of_work import execute

router = APIRouter(prefix="/indicators", tags=["indicators"])
Reader = Annotated[Principal, Depends(require(Role.MINISTRY, Role.DISTRICT_OFFICER, Role.SERVICE))]


class Dependencies(Protocol):
    """What the routes need of reporting's composition root (bootstrap.Wiring, kept in app.state.wiring)."""

    @property
    def settings(self) -> ReportingSettings: ...

    def unit_of_work(self) -> ReportingUnitOfWork: ...


class VillageCount(BaseModel):
    """Registered children (distinct persons) in one village."""

    village_code: str
    children: int | None = Field(description="Null when suppressed")
    suppressed: bool


class RegisteredChildren(BaseModel):
    """The registered-children indicator by village."""

    min_cell_size: int
    villages: list[VillageCount]


def scope_of(principal: Principal) -> Scope:
    """The ministry reads every region; everyone else the regions of their token."""
    return Scope(None if principal.role is Role.MINISTRY else principal.scope)


@router.get("/registered-children", response_model=RegisteredChildren, summary="Registered children by village")
async def registered_children(principal: Reader, request: Request) -> RegisteredChildren:
    """Distinct persons per village; counts under the minimum cell size are suppressed."""
    wiring: Dependencies = request.app.state.wiring
    query = CountRegisteredChildren(scope_of(principal), wiring.settings.min_cell_size)
    cells = await execute(wiring.unit_of_work(), count_registered_children, query)
    return RegisteredChildren(
        min_cell_size=query.min_cell_size,
        villages=[VillageCount(village_code=c.region_code, children=c.count, suppressed=c.suppressed) for c in cells],
    )
