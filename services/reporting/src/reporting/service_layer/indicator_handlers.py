"""The indicators area's use cases: keep facts from events (consumers), read indicators (routes, the feed)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from reporting.domain.cells import Cell, CellKey
from reporting.domain.indicator_commands import (
    IndicatorCells,
    KeepChildEvents,
    KeepMerges,
    KeepProviderEvents,
    KeepReferralEvents,
    ReferralFigures,
)
from reporting.domain.indicators import as_cells, children_counts
from reporting.domain.referral_indicators import (
    FunnelRow,
    Timeliness,
    funnel,
    provider_counts,
    referral_counts,
    timeliness,
)
from reporting.domain.regions import within
from reporting.service_layer.unit_of_work import ReportingUnitOfWork


async def keep_child_events(command: KeepChildEvents, uow: ReportingUnitOfWork) -> None:
    """Keep the child events (one bulk insert; a redelivered event changes nothing)."""
    await uow.facts.add_child_events(command.events)


async def keep_merges(command: KeepMerges, uow: ReportingUnitOfWork) -> None:
    """Keep merges and undoings: counts of the past and present follow them at the next read."""
    await uow.facts.add_merges(command.merges)


async def keep_referral_events(command: KeepReferralEvents, uow: ReportingUnitOfWork) -> None:
    """Keep the referral events."""
    await uow.facts.add_referral_events(command.events)


async def keep_provider_events(command: KeepProviderEvents, uow: ReportingUnitOfWork) -> None:
    """Keep the provider events."""
    await uow.facts.add_provider_events(command.events)


async def indicator_cells(query: IndicatorCells, uow: ReportingUnitOfWork) -> list[Cell]:
    """Every indicator's true counts in the query's regions and period, as cells (zero cells left out)."""
    referrals = await uow.facts.referral_events()
    counts: Counter[CellKey] = children_counts(await uow.facts.child_events(), await uow.facts.merges(), referrals,
                                               query.as_of)
    counts.update(referral_counts(referrals))
    counts.update(provider_counts(await uow.facts.provider_events(), query.as_of))
    return as_cells({key: value for key, value in counts.items() if within(key.region_code, query.region)
                     and (query.level is None or key.region_level is query.level)
                     and (query.period is None or key.period == query.period)})


@dataclass(frozen=True)
class ReferralReport:
    """The funnel rows and the timeliness of a region's referrals."""

    funnel: list[FunnelRow]
    timeliness: list[Timeliness]


async def referral_figures(query: ReferralFigures, uow: ReportingUnitOfWork) -> ReferralReport:
    """The funnel by district, provider and service type, and days to acceptance and completion."""
    events = await uow.facts.referral_events()
    return ReferralReport(funnel(events, query.region), timeliness(events, query.region))
