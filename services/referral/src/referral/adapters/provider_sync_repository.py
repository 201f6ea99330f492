"""The read side of the provider sync: a provider's referrals in the order of their last change, lossless while
writers commit concurrently and out of order. The abstract reader, its SQL version and its in-memory version.

Owned by the provider-sync area. Every save of a referral (`referral_repository.SqlReferrals.save`) stamps its row
with a change position; this module reads the stream of positions.

Why not `WHERE change_seq > :cursor ORDER BY change_seq`: on PostgreSQL a sequence value is taken when a
transaction writes, not when it commits. Transaction 1 takes 5, transaction 2 takes 6 and commits first; a poller
reads 6 and keeps cursor 6; transaction 1 then commits 5, which that poller never sees. A provider offline for a
day would not notice, but it has missed a change for good.

What we do instead (PostgreSQL). Each write stamps the row with its writer's top-level transaction id
(`pg_current_xact_id()`, a 64-bit xid8 that never wraps, as a bigint) and a sequence value. The stream is ordered
by `(change_xid, change_seq)`, and a read serves only rows whose `change_xid` lies below the xmin of its own
snapshot (`pg_snapshot_xmin(pg_current_snapshot())`, taken in the same statement): every transaction with a
smaller id has committed or aborted, and every transaction still running or yet to start has an id at least that
xmin. So once a read served a position P, no transaction can later commit a change before P: a poller that resumes
after its last position misses nothing, however writers interleave. The price: a change becomes visible to the sync
only when no older transaction is still open (a long transaction delays the sync, it never loses a change), and a
referral changed again moves to its new position (the sync gives every referral's latest version, at least once).

SQLite (the one-machine default) has one writer at a time, which holds the database's write lock from its first
write to its commit; the sequence is the largest so far plus one, taken under that lock, so commit order is sequence
order. `change_xid` is 0 there and the same query applies, without the watermark.
"""

from __future__ import annotations

import abc
import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, literal, literal_column, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.referral_repository import InMemoryReferrals, Referrals, referrals, referrals_of_rows
from referral.domain.commands.provider_sync import SyncPosition
from referral.domain.referrals import Referral

STABLE_WATERMARK = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
"""The smallest transaction id still running when the statement's snapshot was taken (PostgreSQL)."""


@dataclass(frozen=True)
class ChangedReferral:
    """A referral as of its last change, and where that change stands in the stream."""

    referral: Referral
    position: SyncPosition


class ProviderChanges(abc.ABC):
    """The stream of a provider's referral changes."""

    @abc.abstractmethod
    async def after(self, provider_id: str, position: SyncPosition, updated_since: dt.datetime | None,
                    limit: int) -> list[ChangedReferral]:
        """The provider's referrals whose last change lies after `position` (and, with `updated_since`, was saved
        then or later), in change order, at most `limit`; only changes no open transaction can precede."""


class SqlProviderChanges(ProviderChanges):
    """The stream in the `referrals` table: its provider-and-position index answers each page."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def after(self, provider_id: str, position: SyncPosition, updated_since: dt.datetime | None,
                    limit: int) -> list[ChangedReferral]:
        """One indexed range scan below the stable watermark."""
        table = referrals.c
        key, after = tuple_(table.change_xid, table.change_seq), tuple_(literal(position.transaction),
                                                                        literal(position.sequence))
        filters = [table.provider_id == provider_id, key > after, self._stable()]
        if updated_since is not None:
            filters.append(table.updated_at >= updated_since.astimezone(dt.UTC))
        query = (select(table.document, table.version, table.change_xid, table.change_seq).where(*filters)
                 .order_by(table.change_xid, table.change_seq).limit(limit))
        rows = (await self.session.execute(query)).all()
        return [ChangedReferral(referral, SyncPosition(row.change_xid, row.change_seq))
                for referral, row in zip(await referrals_of_rows(self.session, rows), rows, strict=True)]

    def _stable(self) -> ColumnElement[bool]:
        if self.session.get_bind().dialect.name == "postgresql":
            # A scalar subquery: evaluated once per statement (an InitPlan), so it bounds the index scan.
            return referrals.c.change_xid < select(literal_column(STABLE_WATERMARK)).scalar_subquery()
        return true()


class InMemoryProviderChanges(ProviderChanges):
    """The stream of the fake's referrals (one writer at a time: sequence order is commit order)."""

    def __init__(self, stored: Callable[[], Referrals]) -> None:
        self.stored = stored  # the fake's current referrals (a rollback replaces the object)

    async def after(self, provider_id: str, position: SyncPosition, updated_since: dt.datetime | None,
                    limit: int) -> list[ChangedReferral]:
        """Filtered and sorted in Python."""
        stored = self.stored()
        assert isinstance(stored, InMemoryReferrals)
        found = []
        for referral_id, (sequence, saved_at) in stored.changes.items():
            referral = stored.referrals[referral_id]
            at = SyncPosition(0, sequence)
            if (referral.provider_id == provider_id and at > position
                    and (updated_since is None or saved_at >= updated_since)):
                found.append(ChangedReferral(copy.deepcopy(referral), at))
        return sorted(found, key=lambda changed: changed.position)[:limit]
