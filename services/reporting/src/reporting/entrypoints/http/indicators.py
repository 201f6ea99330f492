"""GET /indicators: every indicator of a region, with targets, progress and shares, scoped by the caller's token.

True counts, for the districts' own oversight: a district officer (or a service) reads the regions of its token at
every level; the ministry reads district level and above only (its published figures come from the protected
feed). Never a child's identity: counts of persons, referrals and providers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from reporting.config import ReportingSettings
from reporting.domain.cells import CUMULATIVE, AgeBand, Cell, RegionLevel, Sex
from reporting.domain.indicator_commands import IndicatorCells, IndicatorReport
from reporting.domain.indicators import Indicator
from reporting.domain.regions import NATIONAL, level_of
from reporting.domain.targets import pilot_targets
from reporting.service_layer.indicator_handlers import indicator_report
from reporting.service_layer.unit_of_work import ReportingUnitOfWork
from simpul_platform.auth import Principal, Role, require
from simpul_platform.errors import DomainError, ErrorKind, Forbidden
from simpul_platform.unit_of_work import execute

router = APIRouter(tags=["indicators"])
Reader = Annotated[Principal, Depends(require(Role.MINISTRY, Role.DISTRICT_OFFICER, Role.SERVICE))]
REGION = r"^(ID|\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?)$"
SHARES = {
    "identified_with_service": (Indicator.IDENTIFIED_WITH_SERVICE, Indicator.IDENTIFIED),
    "no_longer_in_child_labour_at_follow_up": (Indicator.NO_LONGER_IN_CHILD_LABOUR,
                                               Indicator.FOLLOWED_UP_AFTER_SERVICE),
    "monitoring_coverage_90_days": (Indicator.OPEN_CASES_VISITED_90_DAYS, Indicator.OPEN_CASES),
}


class Dependencies(Protocol):
    """What the route needs of reporting's composition root (bootstrap.Wiring, kept in app.state.wiring)."""

    @property
    def settings(self) -> ReportingSettings: ...

    @property
    def clock(self) -> Callable[[], dt.datetime]: ...

    def unit_of_work(self) -> ReportingUnitOfWork: ...


class Figure(BaseModel):
    """One indicator's count in one region, sex and age band; target and progress on the margins only."""

    indicator: str
    region_code: str
    region_level: RegionLevel
    sex: Sex
    age_band: AgeBand
    value: int
    target: int | None = Field(default=None, description="The programme's target in this region, when it has one")
    progress: float | None = Field(default=None, description="value / target")


class Share(BaseModel):
    """A ratio of two indicators in the asked region (null when the denominator is zero)."""

    share: str
    numerator: int
    denominator: int
    value: float | None


class FunnelRowOut(BaseModel):
    """Referral steps of one provider and service type in one district."""

    model_config = ConfigDict(from_attributes=True)  # read from the domain's rows in one validation of the answer

    district: str
    provider_id: str
    service_type: str
    counts: dict[str, int]


class TimelinessOut(BaseModel):
    """Days from issue to acceptance or completion."""

    model_config = ConfigDict(from_attributes=True)

    step: str
    referrals: int
    median_days: float | None
    p90_days: float | None


class Indicators(BaseModel):
    """Every indicator of a region and the regions under it, for one period."""

    region: str
    period: str
    as_of: dt.date
    figures: list[Figure]
    shares: list[Share]
    referral_funnel: list[FunnelRowOut]
    referral_timeliness: list[TimelinessOut]


def allowed(principal: Principal, region: str) -> RegionLevel | None:
    """The finest level the caller may read in `region` (Forbidden naming the region when none)."""
    if principal.role is Role.MINISTRY:
        if level_of(region).rank < RegionLevel.KABUPATEN.rank:
            raise Forbidden("region", "the ministry reads district level and above")
        return RegionLevel.KABUPATEN
    if region != NATIONAL and principal.covers_region(region):
        return None
    raise Forbidden("region", f"{region} is outside the regions of your token")


@router.get("/indicators", response_model=Indicators, summary="Indicators with targets and progress")
async def indicators(
    principal: Reader, request: Request,
    region: Annotated[str | None, Query(pattern=REGION, description="Region code, ID for national")] = None,
    period: Annotated[str, Query(pattern=r"^(cumulative|\d{4}(0[1-9]|1[0-2]))$")] = CUMULATIVE,
    level: Annotated[RegionLevel | None, Query(description="Only this level")] = None,
) -> Response:
    """The region's indicators (and its sub-regions' the caller may read), targets, shares and referral funnel."""
    wiring: Dependencies = request.app.state.wiring
    region = region or (NATIONAL if principal.role is Role.MINISTRY or not principal.scope else principal.scope[0])
    finest = allowed(principal, region)
    if finest is not None and level is not None and level.rank < finest.rank:
        raise DomainError("level", f"the finest level you may read is {finest.value}", ErrorKind.FORBIDDEN)
    as_of = wiring.clock().date()
    found = await execute(wiring.unit_of_work(), indicator_report,
                          IndicatorReport(IndicatorCells(as_of, region, level, period)))
    cells, report = [c for c in found.cells if finest is None or c.region_level.rank >= finest.rank], found.referrals
    answer = Indicators(region=region, period=period, as_of=as_of, figures=_figures(cells, wiring.settings),
                        shares=_shares(cells, region), referral_funnel=report.funnel,
                        referral_timeliness=report.timeliness)
    # Serialised once, here: returned as a model, FastAPI would validate it again (`response_model` still
    # documents the answer).
    return Response(answer.model_dump_json(), media_type="application/json")


def _figures(cells: list[Cell], settings: ReportingSettings) -> list[Figure]:
    targets = pilot_targets(settings.programme_villages)
    figures = []
    for cell in cells:
        margin = cell.sex is Sex.ALL and cell.age_band is AgeBand.ALL
        target = targets.of(cell.indicator, cell.region_code) if margin else None
        figures.append(Figure(indicator=cell.indicator, region_code=cell.region_code, region_level=cell.region_level,
                              sex=cell.sex, age_band=cell.age_band, value=cell.value, target=target,
                              progress=round(cell.value / target, 4) if target else None))
    return figures


def _shares(cells: list[Cell], region: str) -> list[Share]:
    margins = {c.indicator: c.value for c in cells
               if c.region_code == region and c.sex is Sex.ALL and c.age_band is AgeBand.ALL}
    shares = []
    for name, (top, bottom) in SHARES.items():
        numerator, denominator = margins.get(top, 0), margins.get(bottom, 0)
        shares.append(Share(share=name, numerator=numerator, denominator=denominator,
                            value=round(numerator / denominator, 4) if denominator else None))
    return shares
