"""The indicators area's use cases: keep facts from events and move the counters (consumers), read indicators
from the counters (routes, the feed, the dashboard)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from reporting.domain.cells import CUMULATIVE, Cell, CellKey
from reporting.domain.facts import ReferralStep
from reporting.domain.indicator_commands import (
    IndicatorCells,
    IndicatorReport,
    KeepChildEvents,
    KeepMerges,
    KeepProviderEvents,
    KeepReferralEvents,
    ReferralFigures,
)
from reporting.domain.indicators import as_cells
from reporting.domain.person_tallies import coverage_cells
from reporting.domain.referral_indicators import (
    FunnelRow,
    Timeliness,
    provider_counts,
)
from reporting.domain.regions import within
from reporting.service_layer.indicator_counting import count_child_events, count_merges, count_referral_events
from reporting.service_layer.unit_of_work import ReportingUnitOfWork


async def keep_child_events(command: KeepChildEvents, uow: ReportingUnitOfWork) -> None:
    """Keep the child events (one bulk insert; a redelivered event changes nothing) and count their persons again."""
    await uow.facts.lock()
    await uow.facts.add_child_events(command.events)
    await count_child_events(uow, command.events)


async def keep_merges(command: KeepMerges, uow: ReportingUnitOfWork) -> None:
    """Keep merges and undoings; the persons they touch are counted again, past months included."""
    await uow.facts.lock()
    await uow.facts.add_merges(command.merges)
    await count_merges(uow, command.merges)


async def keep_referral_events(command: KeepReferralEvents, uow: ReportingUnitOfWork) -> None:
    """Keep the referral events and count their referrals (and the persons they serve) again."""
    await uow.facts.lock()
    await uow.facts.add_referral_events(command.events)
    await count_referral_events(uow, command.events)


async def keep_provider_events(command: KeepProviderEvents, uow: ReportingUnitOfWork) -> None:
    """Keep the provider events."""
    await uow.facts.add_provider_events(command.events)


async def indicator_cells(query: IndicatorCells, uow: ReportingUnitOfWork) -> list[Cell]:
    """Every indicator's true counts in the query's regions and period, as cells (zero cells left out)."""
    counts: Counter[CellKey] = await uow.facts.cells(query.region, query.level, query.period)
    if query.period in (None, CUMULATIVE):  # snapshots on the `as_of` day
        sums = await uow.facts.coverage_sums(query.region, query.level, query.as_of)
        counts.update(coverage_cells(sums, query.as_of))
        providers = provider_counts(await uow.facts.provider_events(), query.as_of)
        counts.update({key: value for key, value in providers.items() if within(key.region_code, query.region)
                       and (query.level is None or key.region_level is query.level)})
    return as_cells({key: value for key, value in counts.items() if value})


@dataclass(frozen=True)
class ReferralReport:
    """The funnel rows and the timeliness of a region's referrals."""

    funnel: list[FunnelRow]
    timeliness: list[Timeliness]


async def referral_figures(query: ReferralFigures, uow: ReportingUnitOfWork) -> ReferralReport:
    """The funnel by district, provider and service type, and days to acceptance and completion."""
    funnel = await uow.facts.funnel(query.region)
    answers = []
    for step in (ReferralStep.ACCEPTED, ReferralStep.COMPLETED):
        answers.append(timeliness_of(step.value, *await uow.facts.durations(query.region, step.value, ranks)))
    return ReferralReport(funnel, answers)


@dataclass(frozen=True)
class IndicatorAnswer:
    """A region's cells and its referral figures."""

    cells: list[Cell]
    referrals: ReferralReport


async def indicator_report(query: IndicatorReport, uow: ReportingUnitOfWork) -> IndicatorAnswer:
    """The cells and the referral figures in one unit of work (one connection and transaction for a read)."""
    cells = await indicator_cells(query.cells, uow)
    return IndicatorAnswer(cells, await referral_figures(ReferralFigures(query.cells.region), uow))


def ranks(count: int) -> list[int]:
    """The ranks (0-based) the median and the p90 (nearest rank, as `nearest_rank` has it) of `count` values need."""
    middle = [count // 2] if count % 2 else [count // 2 - 1, count // 2]
    return [*middle, max(math.ceil(0.9 * count), 1) - 1]


def timeliness_of(step: str, count: int, at: dict[int, int]) -> Timeliness:
    """Median and p90 days from the durations at those ranks (microseconds), as the facts give them."""
    if not count:
        return Timeliness(step, 0, None, None)
    days = {rank: micros / 1_000_000 / 86_400 for rank, micros in at.items()}
    *middle, p90 = ranks(count)
    median = days[middle[0]] if len(middle) == 1 else (days[middle[0]] + days[middle[1]]) / 2
    return Timeliness(step, count, round(median, 2), round(days[p90], 2))
