"""Where referral keeps what moves referrals without a human: when the deadline job should next look at each
referral (`deadlines`), and the registry's latest case status per child (`case_statuses`). The abstract
repositories, their SQL versions and their in-memory versions (for the fake).

Owned by the deadlines area. The tables live here too, on `referral.adapters.orm.metadata` (migration 0006).

One `deadlines` row per referral that may still have a deadline: the moment it is next due. The job claims due rows
with `FOR UPDATE SKIP LOCKED` in the transaction that fires them, saves the referral and publishes the events, then
moves the row to the next due moment (or deletes it): two replicas never hold the same row, and a row a replica
committed is no longer due for the other, so each deadline fires once.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import Boolean, Column, DateTime, Index, String, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.orm import metadata
from referral.domain.case_status import CaseStatus
from simpul_platform.bulk import upsert_rows

deadlines = Table(
    "deadlines", metadata,
    Column("referral_id", String(64), primary_key=True),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Index("ix_deadlines_due_at", "due_at"),
)

case_statuses = Table(
    "case_statuses", metadata,
    Column("child_id", String(64), primary_key=True),
    Column("status", String(40), nullable=False),
    Column("closed", Boolean, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)


def utc(moment: dt.datetime) -> dt.datetime:
    """A moment as stored: in UTC (SQLite keeps no offset, so every stored moment is UTC and read back as UTC)."""
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class Deadlines(abc.ABC):
    """When the deadline job should next look at each referral."""

    @abc.abstractmethod
    async def schedule(self, referral_id: str, due_at: dt.datetime | None) -> None:
        """Look at the referral next at `due_at`; None: it has no deadline left (the row goes)."""

    @abc.abstractmethod
    async def claim_due(self, now: dt.datetime, limit: int) -> list[str]:
        """Up to `limit` referral ids due at `now`, earliest first, locked for this transaction; rows another
        transaction holds are skipped."""

    @abc.abstractmethod
    async def reschedule(self, next_looks: Mapping[str, dt.datetime | None]) -> None:
        """`schedule` for many referrals at once (None: the row goes)."""


class CaseStatuses(abc.ABC):
    """The registry's latest case status per child."""

    @abc.abstractmethod
    async def get(self, child_id: str) -> CaseStatus | None:
        """The child's case status, if the registry told referral of one."""

    @abc.abstractmethod
    async def save(self, statuses: Sequence[CaseStatus]) -> None:
        """Insert or replace each child's case status (at most once per child in `statuses`)."""


class SqlDeadlines(Deadlines):
    """The `deadlines` table of the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def schedule(self, referral_id: str, due_at: dt.datetime | None) -> None:
        """An upsert, or a delete when nothing is left to fire."""
        if due_at is None:
            await self.session.execute(delete(deadlines).where(deadlines.c.referral_id == referral_id))
            return
        await upsert_rows(self.session, deadlines, [{"referral_id": referral_id, "due_at": utc(due_at)}],
                          key=["referral_id"])

    async def claim_due(self, now: dt.datetime, limit: int) -> list[str]:
        """One indexed range read, `FOR UPDATE SKIP LOCKED` (SQLite, one writer at a time, ignores the clause)."""
        query = (select(deadlines.c.referral_id).where(deadlines.c.due_at <= utc(now))
                 .order_by(deadlines.c.due_at, deadlines.c.referral_id).limit(limit)
                 .with_for_update(skip_locked=True))
        return list((await self.session.scalars(query)).all())

    async def reschedule(self, next_looks: Mapping[str, dt.datetime | None]) -> None:
        """One bulk upsert and one delete."""
        gone = [referral_id for referral_id, at in next_looks.items() if at is None]
        if gone:
            await self.session.execute(delete(deadlines).where(deadlines.c.referral_id.in_(gone)))
        await upsert_rows(self.session, deadlines, [{"referral_id": referral_id, "due_at": utc(at)}
                                                    for referral_id, at in next_looks.items() if at is not None],
                          key=["referral_id"])


class SqlCaseStatuses(CaseStatuses):
    """The `case_statuses` table of the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, child_id: str) -> CaseStatus | None:
        """One primary-key look-up, locked for this transaction (the consumer compares and replaces)."""
        columns = case_statuses.c.child_id, case_statuses.c.status, case_statuses.c.closed, case_statuses.c.changed_at
        query = select(*columns).where(case_statuses.c.child_id == child_id).with_for_update()
        row = (await self.session.execute(query)).one_or_none()
        return None if row is None else CaseStatus(row.child_id, row.status, row.closed, utc(row.changed_at))

    async def save(self, statuses: Sequence[CaseStatus]) -> None:
        """One bulk upsert."""
        rows = [{"child_id": s.child_id, "status": s.status, "closed": s.closed, "changed_at": utc(s.changed_at)}
                for s in statuses]
        await upsert_rows(self.session, case_statuses, rows, key=["child_id"])


class InMemoryDeadlines(Deadlines):
    """Due moments in a dict keyed by referral (the fake runs one transaction at a time: nothing to lock)."""

    def __init__(self) -> None:
        self.due: dict[str, dt.datetime] = {}

    async def schedule(self, referral_id: str, due_at: dt.datetime | None) -> None:
        """Move or drop the entry."""
        if due_at is None:
            self.due.pop(referral_id, None)
        else:
            self.due[referral_id] = due_at

    async def claim_due(self, now: dt.datetime, limit: int) -> list[str]:
        """The earliest due ids."""
        ready = sorted((at, referral_id) for referral_id, at in self.due.items() if at <= now)
        return [referral_id for _, referral_id in ready[:limit]]

    async def reschedule(self, next_looks: Mapping[str, dt.datetime | None]) -> None:
        """One `schedule` each."""
        for referral_id, at in next_looks.items():
            await self.schedule(referral_id, at)


class InMemoryCaseStatuses(CaseStatuses):
    """Case statuses in a dict keyed by child."""

    def __init__(self) -> None:
        self.statuses: dict[str, CaseStatus] = {}

    async def get(self, child_id: str) -> CaseStatus | None:
        """The child's status, if known."""
        return self.statuses.get(child_id)

    async def save(self, statuses: Sequence[CaseStatus]) -> None:
        """Insert or replace."""
        self.statuses |= {status.child_id: status for status in statuses}
