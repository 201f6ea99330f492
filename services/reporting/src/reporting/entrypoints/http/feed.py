"""The ministry's protected feed over HTTP: JSON, CSV and DHIS2 dataValueSets, scoped by the caller's token.

Every format serves the same protected publication (ADR 0005): counts 1-4 withheld, the rest cell-key perturbed,
audited against every relation the feed publishes. The ministry reads district level and above; a district officer
(or a service) every level inside the regions of its token.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from reporting.adapters.dhis2 import DEFAULT_MAPPING, Dhis2Mapping, data_value_set
from reporting.adapters.feed_csv import feed_csv
from reporting.config import ReportingSettings
from reporting.domain.cells import AgeBand, RegionLevel, Sex
from reporting.domain.feed import ProtectedCell, Protection
from reporting.domain.feed_commands import FeedReader, ProtectedFeed, PublishFeed
from reporting.domain.indicators import Indicator
from reporting.entrypoints.http.indicators import Dependencies
from reporting.service_layer.feed_handlers import protected_feed, publish_feed
from simpul_platform.auth import Principal, Role, require
from simpul_platform.unit_of_work import execute

router = APIRouter(prefix="/feed", tags=["feed"])
Reader = Annotated[Principal, Depends(require(Role.MINISTRY, Role.DISTRICT_OFFICER, Role.SERVICE))]
Publisher = Annotated[Principal, Depends(require(Role.MINISTRY, Role.SERVICE))]
LINKED = {Indicator.IDENTIFIED.value: (Indicator.IDENTIFIED_CHILD_LABOURERS.value, Indicator.IDENTIFIED_AT_RISK.value)}


class FeedCell(BaseModel):
    """One protected count."""

    indicator: str
    region_code: str
    region_level: RegionLevel
    period: str = Field(description="'yyyyMM' or 'cumulative'")
    sex: Sex
    age_band: AgeBand
    value: int | None = Field(description="The protected count; null when withheld (1-4, or withheld to protect one)")
    suppressed: bool


class Feed(BaseModel):
    """The last publication of the protected feed, as one reader may see it (empty before the first)."""

    method: str = Field(description="How the figures are protected (ADR 0005)")
    cells: list[FeedCell]


def protection(settings: ReportingSettings) -> Protection:
    """The feed's protection parameters from settings."""
    return Protection(settings.feed_secret.get_secret_value().encode(), settings.min_cell_size, LINKED)


async def _cells(principal: Principal, request: Request) -> list[ProtectedCell]:
    wiring: Dependencies = request.app.state.wiring
    reader = FeedReader(ministry=principal.role is Role.MINISTRY, regions=principal.scope)
    cells: list[ProtectedCell] = await execute(wiring.unit_of_work(), protected_feed, ProtectedFeed(reader))
    return cells


@router.get("", response_model=Feed, summary="The protected feed (JSON)")
async def feed(principal: Reader, request: Request) -> Feed:
    """Every indicator's protected counts the caller may see."""
    cells = await _cells(principal, request)
    return Feed(
        method="counts 1-4 withheld; others perturbed by at most 2 (cell-key method), totals protected separately "
        "and need not add up",
        cells=[
            FeedCell(indicator=c.key.indicator, region_code=c.key.region_code, region_level=c.key.region_level,
                     period=c.key.period, sex=c.key.sex, age_band=c.key.age_band, value=c.value,
                     suppressed=c.suppressed)
            for c in cells
        ],
    )


@router.get("/csv", summary="The protected feed (CSV)", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
async def feed_as_csv(principal: Reader, request: Request) -> Response:
    """One row per cell; withheld values empty."""
    cells = await _cells(principal, request)
    return Response(feed_csv(cells), media_type="text/csv; charset=utf-8")


@router.get("/dhis2", summary="The protected feed as DHIS2 dataValueSets JSON (idScheme CODE)")
async def feed_as_dhis2(principal: Reader, request: Request) -> dict[str, Any]:
    """Import with POST /api/dataValueSets?idScheme=CODE&dryRun=true first; withheld cells are never exported."""
    wiring: Dependencies = request.app.state.wiring
    path = Path(wiring.settings.dhis2_mapping) if wiring.settings.dhis2_mapping else DEFAULT_MAPPING
    cells = await _cells(principal, request)
    return data_value_set(cells, Dhis2Mapping.load(path))


class Published(BaseModel):
    """What an on-demand publication put on the aggregate topic."""

    publication_id: str
    events: int = Field(description="IndicatorPublishedV1 events on reporting.feed.v1")


@router.post("/publications", response_model=Published, status_code=201,
             summary="Publish the protected feed to reporting.feed.v1 now")
async def publish_now(principal: Publisher, request: Request) -> Published:
    """District level and above, the same protected values the routes serve."""
    del principal
    wiring: Dependencies = request.app.state.wiring
    publication_id = f"pub-{uuid.uuid4().hex}"
    command = PublishFeed(publication_id, wiring.clock(), protection(wiring.settings), slot=publication_id)
    events = await execute(wiring.unit_of_work(), publish_feed, command)
    return Published(publication_id=command.publication_id, events=events)
