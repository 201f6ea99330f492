"""A referral's service records in their own table, one row each, for `referral_repository` to load and save.

A referral can gather a record a week for a year or more, each with up to 2,000 characters of notes. Kept inside
the referral's JSON document, every push re-read, re-validated and rewrote all of them (so a push grew slower with
every record, and every change rewrote the notes in the write-ahead log). Here a push inserts its rows and leaves
the others alone; only a change to a stored record (an erasure blanking notes) updates that row. Rows are keyed by
the referral and the record's position in it (records kept before they had ids have an empty `record_id`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import JSON, Column, Date, DateTime, Integer, String, Table, Text, and_, bindparam, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.orm import metadata
from referral.domain.lifecycle import ServiceRecord
from referral.domain.service_records import Attachment, Attendance, Outcome
from simpul_platform.bulk import insert_rows

service_records = Table(
    "service_records",
    metadata,
    Column("referral_id", String(64), primary_key=True),
    Column("position", Integer, primary_key=True),  # 1, 2, ... in the order the referral took them
    Column("record_id", String(64), nullable=False),
    Column("service_type", String(64), nullable=False),
    Column("delivered_on", Date, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("notes", Text, nullable=False),
    Column("attendance", String(20), nullable=False),
    Column("outcome", String(20)),
    Column("attachments", JSON, nullable=False),  # [[url, sha256], ...]
)

_COLUMNS = tuple(column for column in service_records.c if column.name not in ("referral_id", "position"))
_REWRITE = (sql_update(service_records)
            .where(and_(service_records.c.referral_id == bindparam("old_referral_id"),
                        service_records.c.position == bindparam("old_position")))
            .values({column.name: bindparam(f"new_{column.name}") for column in _COLUMNS}))


async def records_of(session: AsyncSession, referral_ids: Collection[str]) -> dict[str, list[ServiceRecord]]:
    """The records of each referral given, in order (a referral without records is absent)."""
    found: dict[str, list[ServiceRecord]] = defaultdict(list)
    if not referral_ids:
        return found
    table = service_records.c
    query = (select(table.referral_id, *_COLUMNS).where(table.referral_id.in_(sorted(referral_ids)))
             .order_by(table.referral_id, table.position))
    for row in await session.execute(query):
        found[row[0]].append(_record_of(row[1:]))
    return found


async def add_records(session: AsyncSession, added: Sequence[tuple[str, int, ServiceRecord]]) -> None:
    """Insert records: (referral id, position, record) each (a batch's with COPY on PostgreSQL)."""
    await insert_rows(session, service_records, [{"referral_id": referral_id, "position": position, **_row(record)}
                                                 for referral_id, position, record in added])


async def rewrite_records(session: AsyncSession, changed: Sequence[tuple[str, int, ServiceRecord]]) -> None:
    """Replace stored records in place: (referral id, position, record) each."""
    if changed:
        await session.execute(_REWRITE, [
            {"old_referral_id": referral_id, "old_position": position,
             **{f"new_{name}": value for name, value in _row(record).items()}}
            for referral_id, position, record in changed])


def _row(record: ServiceRecord) -> dict[str, Any]:
    return {"record_id": record.record_id, "service_type": record.service_type, "delivered_on": record.delivered_on,
            "recorded_by": record.recorded_by, "recorded_at": record.recorded_at.astimezone(dt.UTC),
            "notes": record.notes, "attendance": str(record.attendance),
            "outcome": None if record.outcome is None else str(record.outcome),
            "attachments": [[a.url, a.sha256] for a in record.attachments]}


def _record_of(values: Sequence[Any]) -> ServiceRecord:
    record_id, service_type, delivered_on, recorded_by, recorded_at, notes, attendance, outcome, attachments = values
    if recorded_at.tzinfo is None:  # SQLite keeps no zone: UTC is stored
        recorded_at = recorded_at.replace(tzinfo=dt.UTC)
    return ServiceRecord(service_type, delivered_on, recorded_by, recorded_at, notes, Attendance(attendance),
                         None if outcome is None else Outcome(outcome),
                         tuple(Attachment(url, sha256) for url, sha256 in attachments), record_id)
