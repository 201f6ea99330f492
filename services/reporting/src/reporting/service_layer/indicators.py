"""Indicator read model: updated from events, queried for aggregated feeds."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.adapters.orm import record_persons
from reporting.domain.suppression import Cell, suppress
from simpul_contracts import CloudEvent
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.upsert import upsert


async def record_linked(session: AsyncSession, event: RecordLinkedV1, _envelope: CloudEvent) -> None:
    """Remember which person a record belongs to; counting distinct persons never counts a child twice."""
    await upsert(
        session,
        record_persons,
        {
            "record_key": event.key,
            "person_id": event.person_id,
            "village_code": event.village_code,
            "updated_at": dt.datetime.now(dt.UTC),
        },
        key=["record_key"],
    )


async def registered_children_by_village(session: AsyncSession, min_cell_size: int) -> list[Cell]:
    """Distinct persons per village, small cells suppressed."""
    query = (
        select(record_persons.c.village_code, func.count(func.distinct(record_persons.c.person_id)))
        .where(record_persons.c.village_code.is_not(None))
        .group_by(record_persons.c.village_code)
    )
    counts = {code: int(count) for code, count in (await session.execute(query)).all()}
    return suppress(counts, min_cell_size)
