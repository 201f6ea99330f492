"""The counters on SQLite and PostgreSQL equal the indicators computed from all the facts at once, as on the fake
(tests/support/reporting_histories.py generates the histories; tests/unit/test_reporting_counters_fake.py runs
them on the fake): the bulk upserts, the zero rows deleted and the lookups by child, person and merge agree."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reporting.adapters.indicator_tables import LIVE
from reporting.adapters.orm import delivery
from reporting.bootstrap import MIGRATIONS
from reporting.domain.facts import ChildEvent, Merge, ReferralEvent
from reporting.domain.indicator_commands import (
    IndicatorCells,
    KeepChildEvents,
    KeepMerges,
    KeepReferralEvents,
    ReferralFigures,
)
from reporting.domain.referral_indicators import funnel, timeliness
from reporting.service_layer.indicator_handlers import (
    indicator_cells,
    keep_child_events,
    keep_merges,
    keep_referral_events,
    referral_figures,
)
from reporting.service_layer.unit_of_work import SqlReportingUnitOfWork
from simpul_platform.database import Database
from simpul_platform.migrations import upgrade
from tests.support.reporting_histories import AS_OF, Fact, expected, history


async def _apply(database: Database, facts: list[Fact], rng: random.Random) -> None:
    start = 0
    while start < len(facts):
        batch = facts[start:start + rng.randrange(1, 30)]
        start += len(batch)
        async with SqlReportingUnitOfWork(database, delivery) as uow:
            children = tuple(f for f in batch if isinstance(f, ChildEvent))
            merges = tuple(f for f in batch if isinstance(f, Merge))
            referrals = tuple(f for f in batch if isinstance(f, ReferralEvent))
            if children:
                await keep_child_events(KeepChildEvents(children), uow)
            if merges:
                await keep_merges(KeepMerges(merges), uow)
            if referrals:
                await keep_referral_events(KeepReferralEvents(referrals), uow)
            await uow.commit()


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_the_sql_counters_equal_the_indicators_of_all_the_facts(
    store: str, tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    for seed in range(6):
        url = (f"sqlite+aiosqlite:///{tmp_path / f'reporting{seed}.db'}" if store == "sqlite"
               else request.getfixturevalue("make_database")("reporting"))
        await upgrade(url, MIGRATIONS)
        database = Database(url)
        facts = history(seed)
        rng = random.Random(seed)
        shuffled = facts + rng.sample(facts, len(facts) // 3)
        rng.shuffle(shuffled)
        await _apply(database, shuffled, rng)
        async with SqlReportingUnitOfWork(database, delivery) as uow:
            cells = await indicator_cells(IndicatorCells(AS_OF), uow)
            assert Counter({c.key: c.value for c in cells}) == expected(facts), seed
            referrals = [f for f in facts if isinstance(f, ReferralEvent)]
            report = await referral_figures(ReferralFigures("ID"), uow)
            assert (report.funnel, report.timeliness) == (funnel(referrals, "ID"), timeliness(referrals, "ID"))
            counts = LIVE.counters
            for table in (counts.cells, counts.coverage, counts.funnel, counts.durations, counts.coverage_months):
                zeros = select(func.count()).select_from(table).where(table.c.value == 0)
                assert (await uow.session.execute(zeros)).scalar_one() == 0, (seed, table.name)  # deleted when at 0
        await database.dispose()

