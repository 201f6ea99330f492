"""Where the protected feed keeps its ledger (the last published value of every cell, audited against by the next
publication) and its publications (one per month at most, claimed by the replica that makes it)."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Column, DateTime, Integer, String, Table, delete, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.adapters.orm import metadata
from reporting.domain.cells import AgeBand, CellKey, RegionLevel, Sex
from reporting.domain.feed import LedgerEntry, Status

feed_ledger = Table(
    "feed_ledger",
    metadata,
    Column("indicator", String(64), primary_key=True),
    Column("region_code", String(32), primary_key=True),
    Column("region_level", String(16), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("sex", String(8), primary_key=True),
    Column("age_band", String(8), primary_key=True),
    Column("true_value", Integer, nullable=False),
    Column("published", Integer, nullable=True),
    Column("status", String(16), nullable=False),
)
feed_publications = Table(
    "feed_publications",
    metadata,
    Column("slot", String(64), primary_key=True),  # 'yyyyMM' for the monthly one, the publication id on demand
    Column("publication_id", String(64), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)
KEY_COLUMNS = ("indicator", "region_code", "region_level", "period", "sex", "age_band")


class FeedLedger(abc.ABC):
    """The last publication of every cell, and which publications were made."""

    @abc.abstractmethod
    async def lock(self) -> None:
        """Hold the ledger until the transaction ends: publications run one after the other, each audited against
        the one before (two replicas, or the monthly job and an on-demand publication, at once)."""

    @abc.abstractmethod
    async def entries(self) -> dict[CellKey, LedgerEntry]:
        """Every cell's last published value (and the true count it was drawn from)."""

    @abc.abstractmethod
    async def replace(self, entries: Mapping[CellKey, LedgerEntry]) -> None:
        """The ledger becomes `entries` (a publication covers the whole feed)."""

    @abc.abstractmethod
    async def claim(self, slot: str, publication_id: str, at: dt.datetime) -> bool:
        """Record a publication in `slot`; False when the slot was already taken (another replica made it)."""


def _row(key: CellKey, entry: LedgerEntry) -> dict[str, object]:
    return {"indicator": key.indicator, "region_code": key.region_code, "region_level": key.region_level.value,
            "period": key.period, "sex": key.sex.value, "age_band": key.age_band.value,
            "true_value": entry.true_value, "published": entry.published, "status": entry.status.value}


class SqlFeedLedger(FeedLedger):
    """The ledger in `feed_ledger`, publications in `feed_publications`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self) -> None:
        """LOCK TABLE on PostgreSQL (a self-conflicting mode); SQLite serialises writers by itself."""
        if self.session.bind.dialect.name == "postgresql":
            await self.session.execute(text("LOCK TABLE feed_ledger IN SHARE ROW EXCLUSIVE MODE"))

    async def entries(self) -> dict[CellKey, LedgerEntry]:
        """One SELECT of the whole ledger."""
        rows = (await self.session.execute(select(feed_ledger))).all()
        return {
            CellKey(r.indicator, r.region_code, RegionLevel(r.region_level), r.period, Sex(r.sex), AgeBand(r.age_band)):
            LedgerEntry(r.true_value, r.published, Status(r.status))
            for r in rows
        }

    async def replace(self, entries: Mapping[CellKey, LedgerEntry]) -> None:
        """DELETE then one multi-row INSERT, in the caller's transaction."""
        await self.session.execute(delete(feed_ledger))
        rows = [_row(key, entry) for key, entry in entries.items()]
        if rows:
            await self.session.execute(insert(feed_ledger), rows)

    async def claim(self, slot: str, publication_id: str, at: dt.datetime) -> bool:
        """INSERT ... ON CONFLICT DO NOTHING: a second replica waits for the first's commit, then inserts nothing."""
        dialect = self.session.bind.dialect.name
        build = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = build(feed_publications).values(slot=slot, publication_id=publication_id, published_at=at)
        result = await self.session.execute(statement.on_conflict_do_nothing(index_elements=["slot"]))
        return bool(getattr(result, "rowcount", 0))


class InMemoryFeedLedger(FeedLedger):
    """The fake's ledger: plain dicts (the fake snapshots and restores it)."""

    def __init__(self) -> None:
        self.ledger: dict[CellKey, LedgerEntry] = {}
        self.publications: dict[str, tuple[str, dt.datetime]] = {}

    async def lock(self) -> None:
        """Nothing runs concurrently in the fake."""

    async def entries(self) -> dict[CellKey, LedgerEntry]:
        """A copy of the ledger."""
        return dict(self.ledger)

    async def replace(self, entries: Mapping[CellKey, LedgerEntry]) -> None:
        """Replace the ledger."""
        self.ledger = dict(entries)

    async def claim(self, slot: str, publication_id: str, at: dt.datetime) -> bool:
        """Take the slot unless taken."""
        if slot in self.publications:
            return False
        self.publications[slot] = (publication_id, at)
        return True
