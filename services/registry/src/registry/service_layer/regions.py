"""Importing an official region list: diff it against the database, then write the plan in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.region_repository import RegionRepository
from registry.domain.regions import ImportPlan, ListedRow, plan_import

BATCH = 1000  # regions per statement: keeps IN lists and executemany calls well below driver parameter limits
Progress = Callable[[int, int], None]
Step = tuple[int, Callable[[], Awaitable[None]]]
T = TypeVar("T")


async def import_regions(
    session: AsyncSession, rows: Sequence[ListedRow], *, now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> ImportPlan:
    """Create, rename, retire and un-retire regions from a read list; rejected rows are reported, not loaded."""
    repository = RegionRepository(session)
    await repository.lock_for_import()
    stored = await repository.stored_in({row.code[:2] for row in rows})
    plan = plan_import(rows, stored)
    now = now or dt.datetime.now(dt.UTC)
    steps = [*_steps(plan.created, repository.create, now),
             *_steps(plan.renamed + plan.unretired, repository.revise, now),
             *_steps(plan.retired, repository.retire, now)]
    done = 0
    for size, step in steps:
        await step()
        done += size
        if progress:
            progress(done, plan.changes)
    return plan


def _steps(items: Sequence[T], write: Callable[[Sequence[T], dt.datetime], Awaitable[None]], now: dt.datetime
           ) -> list[Step]:
    batches = [items[at:at + BATCH] for at in range(0, len(items), BATCH)]
    return [(len(batch), partial(write, batch, now)) for batch in batches]
