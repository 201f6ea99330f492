"""Regions and their version history in the registry's tables, read and written in the unit of work's session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.orm import region_versions, regions
from registry.adapters.repository import RegionRepository
from registry.domain.regions import Region, Revision, StoredRegion

IMPORT_LOCK = 3509112007  # any constant shared by every importer; Kesilir's code is as good as any


VILLAGE_LEVELS = ("desa", "kelurahan")


class SqlRegionRepository(RegionRepository):
    """The stored regions: what registrations check, what an import diffs against, and where its plan is written."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_current_village(self, code: str) -> bool:
        """True when `code` is a village of the reference data that has not been retired."""
        c = regions.c
        query = select(c.code).where(c.code == code, c.retired_at.is_(None), c.level.in_(VILLAGE_LEVELS))
        return (await self.session.execute(query)).first() is not None

    async def is_known_kecamatan(self, code: str) -> bool:
        """True when `code` is a kecamatan of the reference data, retired ones included."""
        query = select(regions.c.code).where(regions.c.code == code, regions.c.level == "kecamatan")
        return (await self.session.execute(query)).first() is not None

    async def codes(self) -> tuple[frozenset[str], frozenset[str]]:
        """Every current village code and every kecamatan code (retired included)."""
        c = regions.c
        rows = (await self.session.execute(select(c.code, c.level, c.retired_at).where(
            c.level.in_([*VILLAGE_LEVELS, "kecamatan"])))).all()
        villages = frozenset(r.code for r in rows if r.level != "kecamatan" and r.retired_at is None)
        return villages, frozenset(r.code for r in rows if r.level == "kecamatan")

    async def provinces(self) -> tuple[str, ...]:
        """Every province code."""
        query = select(regions.c.code).where(regions.c.level == "provinsi")
        return tuple((await self.session.execute(query)).scalars())

    async def lock_for_import(self) -> None:
        """Make concurrent imports on PostgreSQL wait for each other rather than fail on the same new codes."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})

    async def stored_in(self, provinces: Collection[str]) -> dict[str, StoredRegion]:
        """Every stored region (current or retired) of these provinces, by code."""
        c = regions.c
        query = select(c.code, c.name, c.version, c.retired_at).where(func.substr(c.code, 1, 2).in_(provinces))
        result = await self.session.execute(query)
        return {row.code: StoredRegion(row.code, row.name, row.version, row.retired_at is not None) for row in result}

    async def create(self, created: Sequence[Region], now: dt.datetime) -> None:
        """Insert new regions at version 1."""
        if not created:
            return
        await self.session.execute(insert(regions), [
            {"code": r.code, "name": r.name, "level": r.level.value, "parent_code": r.parent_code,
             "aliases": list(r.aliases), "version": 1, "retired_at": None} for r in created])
        await self._open([(r.code, 1, r.name) for r in created], now)

    async def revise(self, revisions: Sequence[Revision], now: dt.datetime) -> None:
        """Make each revision the current version (renamed, or back from retirement); aliases stay as they are."""
        if not revisions:
            return
        await self.session.execute(
            update(regions).where(regions.c.code == bindparam("b_code"))
            .values(name=bindparam("b_name"), version=bindparam("b_version"), retired_at=None),
            [{"b_code": r.region.code, "b_name": r.region.name, "b_version": r.version} for r in revisions])
        await self._close([r.region.code for r in revisions], now)
        await self._open([(r.region.code, r.version, r.region.name) for r in revisions], now)

    async def retire(self, codes: Sequence[str], now: dt.datetime) -> None:
        """Mark regions retired and close their current version; nothing is deleted."""
        if not codes:
            return
        await self.session.execute(update(regions).where(regions.c.code.in_(codes)).values(retired_at=now))
        await self._close(codes, now)

    async def _close(self, codes: Sequence[str], now: dt.datetime) -> None:
        # Before opening the next: at most one open version per code (uq_region_versions_open).
        v = region_versions.c
        await self.session.execute(update(region_versions).where(v.code.in_(codes), v.valid_to.is_(None))
                                   .values(valid_to=now))

    async def _open(self, versions: Sequence[tuple[str, int, str]], now: dt.datetime) -> None:
        await self.session.execute(insert(region_versions), [
            {"code": code, "version": version, "name": name, "valid_from": now} for code, version, name in versions])
