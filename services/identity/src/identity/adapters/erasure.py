"""An erased source record in SQL: the row without details (sealed columns, NIK digest, matching version), and the
reviewers' reasons about it replaced."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters.orm import decisions
from identity.adapters.record_index import SEALED_COLUMNS
from identity.domain.source_records import SourceRecord

ERASED_REASON = "(erased)"


def erased_values(record: SourceRecord, feature_seq: int) -> dict[str, Any]:
    """The columns of an erased record's row: nothing that identifies, nothing the matcher would index."""
    assert record.erased_at is not None
    return dict.fromkeys(SEALED_COLUMNS) | {
        "nik_digest": None, "sex": None, "birth_date_precision": None, "feature_version": None,
        "feature_seq": feature_seq, "person_id": record.person_id, "village_code": record.village_code,
        "linked_at": record.linked_at or record.erased_at, "link_verified": record.verified,
        "details_recorded_at": record.erased_at.astimezone(dt.UTC), "erased_at": record.erased_at.astimezone(dt.UTC)}


async def erase_decision_reasons(session: AsyncSession, record: SourceRecord) -> None:
    """Reviewers' free-text reasons about the record (they can name the child)."""
    await session.execute(update(decisions).where(decisions.c.record == str(record.key), decisions.c.reason.is_not(
        None)).values(reason=ERASED_REASON))
