"""The counters kept in the consumers' transaction equal the indicators computed from all the facts at once (the
rules of `reporting.domain.indicators` and `referral_indicators`), whatever the order, the batching and the
redeliveries: random histories of children linked, relinked, merged and unmerged, classified, closed, reopened,
visited and served, and of referrals issued and taken through their steps (tests/support/reporting_histories.py;
the same on SQLite and PostgreSQL in tests/integration/test_reporting_counters.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter

import pytest

from reporting.domain.facts import ChildEvent, ChildEventKind, Merge, ReferralEvent
from reporting.domain.indicator_commands import (
    IndicatorCells,
    KeepChildEvents,
    KeepMerges,
    KeepReferralEvents,
    ReferralFigures,
)
from reporting.domain.referral_indicators import funnel, timeliness
from reporting.service_layer.fake import FakeReportingUnitOfWork
from reporting.service_layer.indicator_handlers import (
    indicator_cells,
    keep_child_events,
    keep_merges,
    keep_referral_events,
    referral_figures,
)
from tests.support.reporting_histories import AS_OF, VILLAGES, Fact, expected, history


async def apply(facts: list[Fact], rng: random.Random) -> FakeReportingUnitOfWork:
    """The facts in batches of random sizes, as the consumers would run them, in the order given."""
    uow = FakeReportingUnitOfWork()
    start = 0
    while start < len(facts):
        batch = facts[start:start + rng.randrange(1, 12)]
        start += len(batch)
        async with uow:
            for kind in (ChildEvent, Merge, ReferralEvent):
                run = tuple(f for f in batch if isinstance(f, kind))
                if run and kind is ChildEvent:
                    await keep_child_events(KeepChildEvents(run), uow)  # type: ignore[arg-type]
                elif run and kind is Merge:
                    await keep_merges(KeepMerges(run), uow)  # type: ignore[arg-type]
                elif run:
                    await keep_referral_events(KeepReferralEvents(run), uow)  # type: ignore[arg-type]
            await uow.commit()
    return uow


@pytest.mark.parametrize("seed", range(40))
async def test_the_counters_equal_the_indicators_of_all_the_facts_in_any_order(seed: int) -> None:
    facts = history(seed)
    rng = random.Random(1000 + seed)
    reordered = facts + rng.sample(facts, len(facts) // 3)
    rng.shuffle(reordered)
    for order in (facts, reordered):
        uow = await apply(order, rng)
        cells = await indicator_cells(IndicatorCells(AS_OF), uow)
        assert Counter({c.key: c.value for c in cells}) == expected(facts)
        referrals = [f for f in facts if isinstance(f, ReferralEvent)]
        for region in ("ID", "35.09", "52", "35.09.11"):
            report = await referral_figures(ReferralFigures(region), uow)
            assert report.funnel == funnel(referrals, region)
            assert report.timeliness == timeliness(referrals, region)


async def test_an_unmerge_moves_the_counts_back() -> None:
    registered = [ChildEvent(f"e{n}", ChildEventKind.REGISTERED, f"c{n}", f"p{n}", "female", 2014, VILLAGES[n],
                             None, None, None, dt.datetime(2026, 3, 1 + n, tzinfo=dt.UTC),
                             dt.datetime(2026, 3, 1 + n, tzinfo=dt.UTC)) for n in range(2)]
    merged = Merge("m1", "p1", "p0", undone=False)
    uow = await apply([*registered, merged], random.Random(1))
    national = [c for c in await indicator_cells(IndicatorCells(AS_OF, level=None, period="cumulative"), uow)
                if c.region_code == "ID" and c.sex.value == "all" and c.age_band.value == "all"]
    assert [(c.indicator, c.value) for c in national] == [("registered", 1)]
    async with uow:
        await keep_merges(KeepMerges((dataclasses.replace(merged, undone=True),)), uow)
        await uow.commit()
    national = [c for c in await indicator_cells(IndicatorCells(AS_OF, period="cumulative"), uow)
                if c.region_code == "ID" and c.sex.value == "all" and c.age_band.value == "all"]
    assert [(c.indicator, c.value) for c in national] == [("registered", 2)]
