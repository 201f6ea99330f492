"""What an erasure does to the case tables in SQL: every free text of the child's case is replaced (they can name
people); the codes, statuses and dates stay."""

from __future__ import annotations

from sqlalchemy import case, update
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters import orm
from registry.domain.erasure import ERASED_TEXT


async def erase_case_texts(session: AsyncSession, case_id: str) -> None:
    """Replace the reasons of the case's changes and the notes and work activities of its visits."""
    for history in (orm.case_status_changes, orm.case_classification_changes):
        await session.execute(update(history).where(history.c.case_id == case_id).values(reason=ERASED_TEXT))
    visits = orm.monitoring_visits.c
    await session.execute(update(orm.monitoring_visits).where(visits.case_id == case_id).values(
        notes=_erased(visits.notes), work_activities=_erased(visits.work_activities)))


def _erased(column: object) -> object:
    # An empty text stays empty (the domain reads "" as "none recorded"); any other becomes ERASED_TEXT.
    return case((column == "", ""), else_=ERASED_TEXT)  # type: ignore[arg-type]
