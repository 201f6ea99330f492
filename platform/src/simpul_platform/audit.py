"""The audit log every service keeps of access to identifying data and of decisions: who, what, when, why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from simpul_platform.bulk import insert_rows

REASON_LENGTH = 500


def audit_table(metadata: MetaData, *, resource_id_length: int = 130) -> Table:
    """Define `audit_log` on the service's metadata (its migrations create it)."""
    return Table(
        "audit_log",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("role", String(40), nullable=False),
        Column("action", String(40), nullable=False),
        Column("resource", String(40), nullable=False),
        Column("resource_id", String(resource_id_length), nullable=False, index=True),
        Column("reason", String(REASON_LENGTH)),
    )


async def audit(session: AsyncSession, table: Table, *, subject: str, role: str, action: str, resource: str,
                resource_ids: Sequence[str], reason: str | None) -> None:
    """Write one entry per resource, in the caller's transaction; the reason is cut to what the column holds."""
    at = dt.datetime.now(dt.UTC)
    why = (reason or "")[:REASON_LENGTH] or None
    await insert_rows(session, table, [
        {"at": at, "subject": subject, "role": role, "action": action, "resource": resource,
         "resource_id": resource_id, "reason": why} for resource_id in resource_ids])
