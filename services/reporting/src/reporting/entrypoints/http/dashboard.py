"""The dashboard: a public HTML shell and its packaged assets, and the small JSON reads the page needs besides
GET /indicators (who the token is, targets, monthly trends, the protected feed's margins, data freshness).

Every asset ships in the package (district networks are often offline): no CDN, no external font. The page signs
in with the same bearer tokens the APIs take; every figure it shows comes from a route that checks that token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Annotated, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from reporting.adapters.orm import delivery
from reporting.config import ReportingSettings
from reporting.domain.cells import CUMULATIVE, AgeBand, RegionLevel, Sex
from reporting.domain.feed_commands import FeedReader, ProtectedFeed
from reporting.domain.indicator_commands import IndicatorCells
from reporting.domain.regions import NATIONAL, ancestry, level_of, month
from reporting.domain.targets import pilot_targets
from reporting.entrypoints.http.indicators import REGION, allowed
from reporting.service_layer.feed_handlers import protected_feed
from reporting.service_layer.indicator_handlers import indicator_cells
from reporting.service_layer.unit_of_work import ReportingUnitOfWork
from simpul_platform.auth import Principal, Role, require
from simpul_platform.errors import Forbidden, NotFound
from simpul_platform.runtime import ServiceRuntime, consumer_group
from simpul_platform.unit_of_work import execute

router = APIRouter(prefix="/dashboard", tags=["dashboard"])
Reader = Annotated[Principal, Depends(require(Role.MINISTRY, Role.DISTRICT_OFFICER, Role.SERVICE))]
ASSETS = resources.files("reporting") / "dashboard"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml"}
# Nothing but this origin: a CDN or font link would fail offline, and would be blocked here too.
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
LAG_TIMEOUT_S = 3.0
LAG_CACHE_S = 5.0


class Dependencies(Protocol):
    """What the dashboard needs of reporting's composition root (bootstrap.Wiring, kept in app.state.wiring)."""

    @property
    def settings(self) -> ReportingSettings: ...

    @property
    def runtime(self) -> ServiceRuntime: ...

    @property
    def clock(self) -> Callable[[], dt.datetime]: ...

    def unit_of_work(self) -> ReportingUnitOfWork: ...


def _asset(name: str) -> Traversable:
    found = ASSETS.joinpath(*name.split("/"))
    if ".." in name.split("/") or not found.is_file() or ("." + name.rsplit(".", 1)[-1]) not in TYPES:
        raise NotFound("name", f"{name} is not an asset of the dashboard")
    return found


def _served(name: str, cache: str) -> Response:
    found = _asset(name)
    headers = {"Cache-Control": cache, "Content-Security-Policy": POLICY, "X-Content-Type-Options": "nosniff"}
    return Response(found.read_bytes(), media_type=TYPES["." + name.rsplit(".", 1)[-1]], headers=headers)


@router.get("", include_in_schema=False)
async def page() -> Response:
    """The dashboard's HTML shell (public: it holds no figure until the viewer signs in)."""
    return _served("index.html", "no-cache")


@router.get("/assets/{name:path}", include_in_schema=False)
async def asset(name: Annotated[str, Path(pattern=r"^[a-z0-9_\-/]{1,80}\.[a-z]{2,4}$")]) -> Response:
    """A packaged script, style sheet or translation."""
    return _served(name, "public, max-age=300")


class Viewer(BaseModel):
    """Who the token says the viewer is: the page scopes its views by this, the routes enforce it."""

    subject: str
    role: Role
    scope: list[str]
    home: str = Field(description="The region the page opens on: national for the ministry, else the first of the "
                      "token's regions")
    as_of: dt.date = Field(description="Reporting's today: trends end in its month")


@router.get("/me", response_model=Viewer, summary="The signed-in viewer's role and regions")
async def me(principal: Reader, request: Request) -> Viewer:
    """The token's role and scope, as reporting reads them."""
    wiring: Dependencies = request.app.state.wiring
    home = NATIONAL if principal.role is Role.MINISTRY or not principal.scope else principal.scope[0]
    return Viewer(subject=principal.subject, role=principal.role, scope=list(principal.scope), home=home,
                  as_of=wiring.clock().date())


class Target(BaseModel):
    """The programme's target of one indicator in one region."""

    indicator: str
    region_code: str
    region_level: RegionLevel
    target: int


@router.get("/targets", response_model=list[Target], summary="Programme targets in the viewer's regions")
async def targets(principal: Reader, request: Request) -> list[Target]:
    """Targets of the programme villages' regions the caller may read (the ministry: district level and above)."""
    wiring: Dependencies = request.app.state.wiring
    plan = pilot_targets(wiring.settings.programme_villages)
    regions = sorted({code for village in plan.villages for code, _ in ancestry(village)})
    answer = []
    for region in regions:
        level = level_of(region)
        if principal.role is Role.MINISTRY and not level.district_or_above:
            continue
        if principal.role is not Role.MINISTRY and not principal.covers_region(region):
            continue
        for indicator in (*plan.per_village, *plan.national):
            target = plan.of(indicator, region)
            if target:
                answer.append(Target(indicator=indicator, region_code=region, region_level=level, target=target))
    return answer


class Trends(BaseModel):
    """Monthly counts of every indicator in one region (all sexes and ages), months with any count only."""

    region: str
    as_of: dt.date
    months: list[str] = Field(description="'yyyyMM', oldest first")
    series: dict[str, dict[str, int]] = Field(description="indicator -> month -> count")


@router.get("/trends", response_model=Trends, summary="Monthly counts of a region (true counts; not the ministry)")
async def trends(
    principal: Reader, request: Request,
    region: Annotated[str | None, Query(pattern=REGION, description="Region code (default: the token's first)")] = None,
) -> Trends:
    """Every indicator by month in the region: district officers' oversight (the ministry reads GET /feed)."""
    if principal.role is Role.MINISTRY:
        raise Forbidden("role", "the ministry reads protected figures only: GET /feed")
    wiring: Dependencies = request.app.state.wiring
    region = region or (principal.scope[0] if principal.scope else NATIONAL)
    allowed(principal, region)
    as_of = wiring.clock().date()
    cells = await execute(wiring.unit_of_work(), indicator_cells, IndicatorCells(as_of, region, level_of(region)))
    series: dict[str, dict[str, int]] = {}
    for cell in cells:
        if cell.period != CUMULATIVE and cell.sex is Sex.ALL and cell.age_band is AgeBand.ALL:
            series.setdefault(cell.indicator, {})[cell.period] = cell.value
    months = sorted({m for counts in series.values() for m in counts})
    return Trends(region=region, as_of=as_of, months=months, series=series)


class ProtectedFigure(BaseModel):
    """One protected count of the last feed publication, all sexes and ages."""

    indicator: str
    region_code: str
    region_level: RegionLevel
    period: str = Field(description="'yyyyMM' or 'cumulative'")
    value: int | None = Field(description="Null when withheld")
    suppressed: bool


@router.get("/feed", response_model=list[ProtectedFigure],
            summary="The protected feed's margins the dashboard draws (cumulative and the last 12 months)")
async def protected_margins(principal: Reader, request: Request) -> list[ProtectedFigure]:
    """GET /feed's cells as the caller may see them, cut to all sexes and ages, cumulative and the 12 months up to
    today: what the ministry's page draws, without the disaggregations it does not (a fraction of the bytes)."""
    wiring: Dependencies = request.app.state.wiring
    reader = FeedReader(ministry=principal.role is Role.MINISTRY, regions=principal.scope)
    cells = await execute(wiring.unit_of_work(), protected_feed, ProtectedFeed(reader))
    periods = {CUMULATIVE, *_last_months(wiring.clock().date(), 12)}
    return [ProtectedFigure(indicator=c.key.indicator, region_code=c.key.region_code,
                            region_level=c.key.region_level, period=c.key.period, value=c.value,
                            suppressed=c.suppressed)
            for c in cells if c.key.sex is Sex.ALL and c.key.age_band is AgeBand.ALL and c.key.period in periods]


def _last_months(today: dt.date, count: int) -> list[str]:
    index = today.year * 12 + today.month - 1
    return [month(dt.date((index - back) // 12, (index - back) % 12 + 1, 1)) for back in range(count)]


class Source(BaseModel):
    """How fresh one source topic's figures are."""

    topic: str
    last_event_at: dt.datetime | None = Field(description="When reporting last applied an event of this topic")
    lag: int | None = Field(description="Records on the topic not yet applied (null when Kafka did not answer)")


class Freshness(BaseModel):
    """Data freshness per source."""

    as_of: dt.datetime
    sources: list[Source]


@router.get("/freshness", response_model=Freshness, summary="Last event time and consumer lag per source")
async def freshness(principal: Reader, request: Request) -> Freshness:
    """The last applied event's time (reporting's inbox) and the consumer group's lag (Kafka) of every source."""
    del principal
    wiring: Dependencies = request.app.state.wiring
    topics = _source_topics(wiring)
    last = await _last_applied(wiring, topics)
    lags = await _cached_lags(request, wiring, topics)
    return Freshness(as_of=wiring.clock(), sources=[Source(topic=t, last_event_at=last.get(t), lag=lags.get(t))
                                                     for t in topics])


def _source_topics(wiring: Dependencies) -> list[str]:
    namespace = wiring.settings.topic_namespace
    return sorted(c.topic.removeprefix(namespace) for c in wiring.runtime.consumers)


async def _last_applied(wiring: Dependencies, topics: list[str]) -> dict[str, dt.datetime]:
    inbox = delivery.processed_events
    service = wiring.settings.service_name
    query = select(inbox.c.consumer, func.max(inbox.c.processed_at)).group_by(inbox.c.consumer)
    async with wiring.runtime.database.session() as session:
        rows = (await session.execute(query)).all()
    by_inbox = {str(name): moment for name, moment in rows}
    return {t: by_inbox[f"{service}:{t}"] for t in topics if f"{service}:{t}" in by_inbox}


async def _cached_lags(request: Request, wiring: Dependencies, topics: list[str]) -> dict[str, int]:
    cached: tuple[float, dict[str, int]] | None = getattr(request.app.state, "dashboard_lags", None)
    if cached is not None and time.monotonic() - cached[0] < LAG_CACHE_S:
        return cached[1]
    try:
        lags = await asyncio.wait_for(consumer_lags(wiring.settings, topics), LAG_TIMEOUT_S)
    except Exception:  # freshness degrades to "lag unknown"; the figures still show
        lags = {}
    request.app.state.dashboard_lags = (time.monotonic(), lags)
    return lags


async def consumer_lags(settings: ReportingSettings, topics: list[str]) -> dict[str, int]:
    """Records behind each topic's end for reporting's consumer group of that topic (never-committed partitions
    count from the start)."""
    bootstrap, namespace = settings.kafka_bootstrap_servers, settings.topic_namespace
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    try:
        await consumer.start()
        try:
            lags = {}
            for topic in topics:
                committed = await admin.list_consumer_group_offsets(
                    consumer_group(namespace, settings.service_name, topic))
                partitions = [TopicPartition(namespace + topic, p)
                              for p in consumer.partitions_for_topic(namespace + topic) or ()]
                ends = await consumer.end_offsets(partitions)
                lags[topic] = sum(end - max(committed[tp].offset, 0) if tp in committed else end
                                  for tp, end in ends.items())
            return lags
        finally:
            await consumer.stop()
    finally:
        await admin.close()
