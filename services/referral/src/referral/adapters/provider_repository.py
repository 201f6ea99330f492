"""Where referral keeps its provider directory: providers (with their vettings and agreements) and the versioned
service-type code list. The abstract repositories, their SQL versions and their in-memory versions (for the fake).

Owned by the directory area. The tables live here too, on `referral.adapters.orm.metadata`; the row <-> aggregate
translation is in `provider_rows`.
"""

from __future__ import annotations

import abc
import copy
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Table,
    Text,
    delete,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters import provider_rows as rows
from referral.adapters.orm import metadata
from referral.domain.commands.directory import ProviderFilters
from referral.domain.providers import Provider
from referral.domain.service_types import CodeListChange, ServiceType, ServiceTypeList, pilot_list
from simpul_platform.upsert import upsert

IMPORT_LOCK = 0x5E71CE  # pg_advisory_xact_lock key: concurrent service-type imports wait for each other

providers = Table(
    "providers", metadata,
    Column("provider_id", String(40), primary_key=True),
    Column("organisation", String(200), nullable=False),
    Column("provider_type", String(40), nullable=False),
    Column("contacts", JSON, nullable=False),
    Column("catalogue", JSON, nullable=False),
    Column("capacity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("scored", JSON),  # the current vetting's score as last published, criterion by criterion
    Column("rescore_on", Date),  # the next day a document starts or stops counting (the rescoring job's due date)
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_providers_rescore_on", "rescore_on"),
)
provider_districts = Table(
    "provider_districts", metadata,
    Column("provider_id", String(40), ForeignKey("providers.provider_id", ondelete="CASCADE"), primary_key=True),
    Column("district", String(5), primary_key=True),
    Index("ix_provider_districts_district", "district"),
)
vettings = Table(
    "provider_vettings", metadata,
    Column("vetting_id", String(40), primary_key=True),
    Column("provider_id", String(40), ForeignKey("providers.provider_id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("documents", JSON, nullable=False),
    Column("track_record", Integer, nullable=False),
    Column("vision_and_mission", Integer, nullable=False),
    Column("child_orientation", Integer, nullable=False),
    Column("years_with_children", String(16), nullable=False),
    Column("vetted_by", String(200), nullable=False),
    Column("vetted_at", DateTime(timezone=True), nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("notes", Text, nullable=False),
)
agreements = Table(
    "provider_agreements", metadata,
    Column("provider_id", String(40), ForeignKey("providers.provider_id", ondelete="CASCADE"), primary_key=True),
    Column("agreement_id", String(40), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("document_reference", String(200), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("service_types", JSON, nullable=False),
    Column("districts", JSON, nullable=False),
)
service_types = Table(
    "service_types", metadata,
    Column("code", String(70), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),  # the list version that last changed this code
    Column("retired", Boolean, nullable=False),
)
service_type_versions = Table(
    "service_type_versions", metadata,
    Column("version", Integer, primary_key=True),
    Column("imported_by", String(200), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("changes", JSON, nullable=False),  # code lists: created, renamed, retired, unretired
)


def matches(scope: Sequence[str], filters: ProviderFilters, provider: Provider) -> bool:
    """Whether a provider in a scope answers the filters (the in-memory twin of the SQL query)."""
    return (any(covered(scope, district) for district in provider.districts)
            and (filters.district is None or filters.district in provider.districts)
            and (filters.service_type is None or filters.service_type in provider.catalogue)
            and (filters.capacity is None or provider.capacity is filters.capacity)
            and (filters.status is None or provider.status is filters.status)
            and (filters.organisation is None or filters.organisation.casefold() in provider.organisation.casefold())
            and (filters.after is None or provider.provider_id > filters.after))


def covered(scope: Sequence[str], district: str) -> bool:
    """Whether a district lies in a scope of region codes (the district itself, or its province)."""
    return any(district == code or district.startswith(code + ".") for code in scope)


class Providers(abc.ABC):
    """Providers by id, each loaded whole (vettings and agreements) as the domain's `Provider` aggregate."""

    @abc.abstractmethod
    async def get(self, provider_id: str, *, for_update: bool = False) -> Provider | None:
        """The provider, if it is in the directory; `for_update` locks it for this transaction (a change waits for
        another change, or a rescoring round, of the same provider, so neither overwrites the other)."""

    @abc.abstractmethod
    async def save(self, provider: Provider) -> None:
        """Insert or update the provider, its vettings and its agreements."""

    @abc.abstractmethod
    async def search(self, scope: Sequence[str], filters: ProviderFilters) -> list[Provider]:
        """The providers in `scope` (region codes) answering `filters`, by id, at most `filters.limit`."""

    @abc.abstractmethod
    async def schedule_rescoring(self, provider_id: str, on: dt.date | None) -> None:
        """Set the next day the provider's current vetting must be re-scored (None: never, as things stand)."""

    @abc.abstractmethod
    async def due_for_rescoring(self, day: dt.date, limit: int) -> list[Provider]:
        """Providers whose re-scoring day is `day` or earlier, by id, locked for this transaction; rows another
        transaction holds are skipped (a second replica's job takes others, never the same)."""


class ServiceTypes(abc.ABC):
    """The service-type code list: every code it ever had (retired ones kept) and its version."""

    @abc.abstractmethod
    async def current(self) -> ServiceTypeList:
        """The list as it stands (version 0 and no entries before the first import)."""

    @abc.abstractmethod
    async def lock_for_import(self) -> None:
        """Make a concurrent import wait for this transaction."""

    @abc.abstractmethod
    async def save(self, listed: ServiceTypeList, change: CodeListChange, by: str, at: dt.datetime) -> None:
        """Store a new version of the list and what it changed."""


class SqlProviders(Providers):
    """Providers in the directory tables of the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, provider_id: str, *, for_update: bool = False) -> Provider | None:
        """The provider row (`FOR UPDATE` when asked) with its districts, vettings and agreements."""
        query = select(providers).where(providers.c.provider_id == provider_id)
        found = await self._load(query.with_for_update() if for_update else query)
        return found[0] if found else None

    async def save(self, provider: Provider) -> None:
        """Upsert the provider and its agreements, insert new vettings, replace its districts."""
        session, pid = self.session, provider.provider_id
        # Row by row: bulk upsert_rows unnests arrays, which flattens the JSON lists of these rows on PostgreSQL.
        await upsert(session, providers, rows.provider_row(provider, dt.datetime.now(dt.UTC)), key=["provider_id"])
        await session.execute(delete(provider_districts).where(provider_districts.c.provider_id == pid))
        await session.execute(provider_districts.insert(), [{"provider_id": pid, "district": d}
                                                            for d in sorted(provider.districts)])
        known = set((await session.execute(select(vettings.c.vetting_id).where(vettings.c.provider_id == pid)))
                    .scalars())
        new = [rows.vetting_row(pid, v) for v in provider.vettings if v.vetting_id not in known]
        if new:
            await session.execute(vettings.insert(), new)
        for agreement in provider.agreements.values():
            await upsert(session, agreements, rows.agreement_row(pid, agreement), key=["provider_id", "agreement_id"])

    async def search(self, scope: Sequence[str], filters: ProviderFilters) -> list[Provider]:
        """One query over the scope's districts, then the aggregates of the page."""
        c = providers.c
        in_scope = select(provider_districts.c.provider_id).where(or_(
            *(provider_districts.c.district == code for code in scope),
            *(provider_districts.c.district.like(code + ".%") for code in scope)))
        query = select(providers).where(c.provider_id.in_(in_scope))
        if filters.district is not None:
            query = query.where(c.provider_id.in_(select(provider_districts.c.provider_id).where(
                provider_districts.c.district == filters.district)))
        if filters.capacity is not None:
            query = query.where(c.capacity == filters.capacity.value)
        if filters.status is not None:
            query = query.where(c.status == filters.status.value)
        if filters.organisation is not None:
            query = query.where(func.lower(c.organisation).contains(filters.organisation.lower(), autoescape=True))
        if filters.after is not None:
            query = query.where(c.provider_id > filters.after)
        found = await self._load(query.order_by(c.provider_id))
        # The catalogue is a JSON list: filtered here (a district has tens of providers, not thousands).
        return [p for p in found if filters.service_type is None or filters.service_type in p.catalogue][
            :filters.limit]

    async def schedule_rescoring(self, provider_id: str, on: dt.date | None) -> None:
        """One update of the provider's row."""
        await self.session.execute(providers.update().where(providers.c.provider_id == provider_id)
                                   .values(rescore_on=on))

    async def due_for_rescoring(self, day: dt.date, limit: int) -> list[Provider]:
        """`FOR UPDATE SKIP LOCKED` on the due rows (ignored by SQLite, which has one writer anyway)."""
        c = providers.c
        query = (select(providers).where(c.rescore_on <= day).order_by(c.provider_id).limit(limit)
                 .with_for_update(skip_locked=True))
        return await self._load(query)

    async def _load(self, query: Select[Any]) -> list[Provider]:
        found = (await self.session.execute(query)).mappings().all()
        if not found:
            return []
        ids = [row["provider_id"] for row in found]
        districts: dict[str, set[str]] = {pid: set() for pid in ids}
        for pid, district in await self.session.execute(
                select(provider_districts.c.provider_id, provider_districts.c.district)
                .where(provider_districts.c.provider_id.in_(ids))):
            districts[pid].add(district)
        vetted = (await self.session.execute(select(vettings).where(vettings.c.provider_id.in_(ids))
                                             .order_by(vettings.c.vetted_at))).mappings().all()
        agreed = (await self.session.execute(select(agreements).where(agreements.c.provider_id.in_(ids))
                                             .order_by(agreements.c.agreement_id))).mappings().all()
        return [rows.provider(row, frozenset(districts[row["provider_id"]]),
                              [v for v in vetted if v["provider_id"] == row["provider_id"]],
                              [a for a in agreed if a["provider_id"] == row["provider_id"]]) for row in found]


class SqlServiceTypes(ServiceTypes):
    """The code list in `service_types`, its versions in `service_type_versions`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self) -> ServiceTypeList:
        """Every code, and the latest version number."""
        version = (await self.session.execute(select(func.max(service_type_versions.c.version)))).scalar()
        entries = {row.code: ServiceType(row.code, row.name, row.version, row.retired)
                   for row in await self.session.execute(select(service_types))}
        return ServiceTypeList(version or 0, entries)

    async def lock_for_import(self) -> None:
        """An advisory lock on PostgreSQL (SQLite has one writer anyway)."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})

    async def save(self, listed: ServiceTypeList, change: CodeListChange, by: str, at: dt.datetime) -> None:
        """Upsert the changed codes and record the version."""
        changed = {*change.created, *change.renamed, *change.retired, *change.unretired}
        for code in sorted(changed):
            await upsert(self.session, service_types, rows.service_type_row(listed.entries[code]), key=["code"])
        await self.session.execute(service_type_versions.insert().values(
            version=listed.version, imported_by=by, imported_at=at, changes=rows.change_row(change)))


class InMemoryProviders(Providers):
    """Providers in a dict; each read and write copies, as a database would (the aggregate's events stay behind)."""

    def __init__(self) -> None:
        self.providers: dict[str, Provider] = {}
        self.rescore_on: dict[str, dt.date | None] = {}
        self.locked: set[str] = set()  # ids another transaction holds (tests set it to act as a second replica)

    async def get(self, provider_id: str, *, for_update: bool = False) -> Provider | None:
        """A copy of the stored provider (one transaction at a time: nothing to lock)."""
        stored = self.providers.get(provider_id)
        return None if stored is None else copy.deepcopy(stored)

    async def save(self, provider: Provider) -> None:
        """Store a copy without its pending events."""
        stored = copy.deepcopy(provider)
        stored.events = []
        self.providers[provider.provider_id] = stored
        self.rescore_on.setdefault(provider.provider_id, None)

    async def search(self, scope: Sequence[str], filters: ProviderFilters) -> list[Provider]:
        """Every match, by id."""
        found = sorted((p for p in self.providers.values() if matches(scope, filters, p)),
                       key=lambda p: p.provider_id)
        return [copy.deepcopy(p) for p in found[:filters.limit]]

    async def schedule_rescoring(self, provider_id: str, on: dt.date | None) -> None:
        """Remember the day."""
        self.rescore_on[provider_id] = on

    async def due_for_rescoring(self, day: dt.date, limit: int) -> list[Provider]:
        """Due providers not in `locked`."""
        due = sorted(pid for pid, on in self.rescore_on.items() if on is not None and on <= day
                     and pid not in self.locked)
        return [copy.deepcopy(self.providers[pid]) for pid in due[:limit]]


class InMemoryServiceTypes(ServiceTypes):
    """The list and its import history in memory, seeded with the pilot list as the migration seeds the table."""

    def __init__(self) -> None:
        self.listed = pilot_list()
        self.imports: list[tuple[int, CodeListChange, str, dt.datetime]] = []

    async def current(self) -> ServiceTypeList:
        """The list as last saved."""
        return self.listed

    async def lock_for_import(self) -> None:
        """Nothing to lock: one transaction at a time."""

    async def save(self, listed: ServiceTypeList, change: CodeListChange, by: str, at: dt.datetime) -> None:
        """Keep the new version."""
        self.listed = listed
        self.imports.append((listed.version, change, by, at))
