"""Importing an official region list: diff it against the stored regions, then write the plan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TypeVar

from registry.domain.commands import ImportRegions, ListProvinces
from registry.domain.regions import ImportPlan, plan_import
from registry.service_layer.unit_of_work import RegistryUnitOfWork

BATCH = 1000  # regions per statement: keeps IN lists and executemany calls well below driver parameter limits
Step = tuple[int, Callable[[], Awaitable[None]]]
T = TypeVar("T")


async def import_regions(command: ImportRegions, uow: RegistryUnitOfWork) -> ImportPlan:
    """Create, rename, retire and un-retire regions from a read list; rejected rows are reported, not loaded."""
    regions, rows = uow.regions, command.rows
    await regions.lock_for_import()
    stored = await regions.stored_in({row.code[:2] for row in rows})
    plan = plan_import(rows, stored)
    now = command.now or dt.datetime.now(dt.UTC)
    steps = [*_steps(plan.created, regions.create, now),
             *_steps(plan.renamed + plan.unretired, regions.revise, now),
             *_steps(plan.retired, regions.retire, now)]
    done = 0
    for size, step in steps:
        await step()
        done += size
        if command.progress:
            command.progress(done, plan.changes)
    return plan


def _steps(items: Sequence[T], write: Callable[[Sequence[T], dt.datetime], Awaitable[None]], now: dt.datetime
           ) -> list[Step]:
    batches = [items[at:at + BATCH] for at in range(0, len(items), BATCH)]
    return [(len(batch), partial(write, batch, now)) for batch in batches]


async def every_province(_command: ListProvinces, uow: RegistryUnitOfWork) -> tuple[str, ...]:
    """Every province code."""
    return await uow.regions.provinces()
