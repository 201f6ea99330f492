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
    KeepChildEvents,
    KeepMerges,
    KeepProviderEvents,
    KeepReferralEvents,
    ReferralFigures,
)
from reporting.domain.indicators import as_cells
from reporting.domain.referral_indicators import (
    STEP_INDICATORS,
    FunnelRow,
    Timeliness,
    provider_counts,
)
from reporting.domain.regions import within
from reporting.domain.tallies import coverage_cells
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
    rows = await uow.facts.funnel(query.region)
    funnel = [FunnelRow(d, p, s, {i.value: counts.get(i.value, 0) for i in STEP_INDICATORS.values()})
              for (d, p, s), counts in sorted(rows.items())]
    answers = []
    for step in (ReferralStep.ACCEPTED, ReferralStep.COMPLETED):
        answers.append(timeliness_of(step.value, await uow.facts.durations(query.region, step.value)))
    return ReferralReport(funnel, answers)


def timeliness_of(step: str, histogram: list[tuple[int, int]]) -> Timeliness:
    """Median and p90 (nearest rank) days from a histogram of (microseconds, referrals), as the facts give them."""
    total = sum(count for _, count in histogram)
    if not total:
        return Timeliness(step, 0, None, None)

    def nth(index: int) -> float:
        for micros, count in histogram:
            if index < count:
                return micros / 1_000_000 / 86_400
            index -= count
        raise IndexError(index)

    middle = nth(total // 2) if total % 2 else (nth(total // 2 - 1) + nth(total // 2)) / 2
    p90 = nth(max(math.ceil(0.9 * total), 1) - 1)  # nearest rank, as `nearest_rank` has it
    return Timeliness(step, total, round(middle, 2), round(p90, 2))
