"""The registry's unit of work in memory, for fast tests of its use cases: same rules, no database.

Each unit of work works on a private copy of the store, written back at commit; a rollback just drops the copy.
Several units of work can share one store (`FakeRegistryStore.unit_of_work`), as bulk handlers need.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from registry.adapters.repository import (
    ChildAnswers,
    ChildrenRepository,
    RegionRepository,
    SourceKey,
    SurveyImports,
)
from registry.domain.case import Case
from registry.domain.consent import GuardianConsent
from registry.domain.erasure import erased_case
from registry.domain.errors import VersionConflict
from registry.domain.record import ChildRecord, ChildSearch
from registry.domain.regions import Level, Region, Revision, StoredRegion
from registry.domain.survey import ImportReport, SurveyFile
from registry.service_layer.unit_of_work import RegistryRules, RegistryUnitOfWork
from simpul_contracts import Event
from simpul_platform.field_encryption import development_blind_index_key
from simpul_platform.idempotency import InMemoryIdempotencyKeys, StoredKey
from simpul_platform.outbox import Tombstone
from simpul_platform.unit_of_work import Access, InMemoryUnitOfWork

VILLAGES = (Level.DESA, Level.KELURAHAN)


class DuplicateKey(Exception):
    """What a unique constraint would refuse (the fake's IntegrityError)."""


@dataclass
class StoredRegionRow:
    """A region as the fake keeps it."""

    region: Region
    version: int = 1
    retired_at: dt.datetime | None = None


@dataclass
class FakeTables:
    """Everything the registry stores."""

    children: dict[str, ChildRecord] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)  # by child id
    consent: dict[str, GuardianConsent] = field(default_factory=dict)
    regions: dict[str, StoredRegionRow] = field(default_factory=dict)
    region_versions: list[tuple[str, int, str, dt.datetime, dt.datetime | None]] = field(default_factory=list)
    keys: dict[tuple[str, str], StoredKey] = field(default_factory=dict)  # Idempotency-Keys by (subject, key)
    imports: dict[str, tuple[str, ImportReport, bool]] = field(default_factory=dict)  # subject, report, finished


@dataclass
class FakeRegistryStore:
    """The fake's database: tables and what committed units of work published and audited."""

    tables: FakeTables = field(default_factory=FakeTables)
    rules: RegistryRules = field(default_factory=lambda: RegistryRules("simpul-registry",
                                                                       development_blind_index_key()))
    published: list[Event] = field(default_factory=list)
    tombstoned: list[Tombstone] = field(default_factory=list)
    audited: list[Access] = field(default_factory=list)
    applied: set[tuple[str, str]] = field(default_factory=set)

    def unit_of_work(self) -> FakeRegistryUnitOfWork:
        """A fresh unit of work over this store."""
        return FakeRegistryUnitOfWork(self)

    def add_regions(self, *regions: Region) -> None:
        """Reference data for a test, as an import would leave it."""
        for region in regions:
            self.tables.regions[region.code] = StoredRegionRow(region)


class FakeRegistryUnitOfWork(InMemoryUnitOfWork, RegistryUnitOfWork):
    """The registry's unit of work over a FakeRegistryStore."""

    def __init__(self, store: FakeRegistryStore | None = None) -> None:
        super().__init__()
        self.store = store or FakeRegistryStore()
        self.rules = self.store.rules
        self.published, self.audited, self.applied = self.store.published, self.store.audited, self.store.applied
        self.tombstoned = self.store.tombstoned
        self._tables = FakeTables()

    def begin_repositories(self) -> None:
        """Work on a copy of the store's tables."""
        self._tables = copy.deepcopy(self.store.tables)
        self.children = FakeChildrenRepository(self._tables)
        self.regions = FakeRegionRepository(self._tables)
        self.idempotency_keys = FakeIdempotencyKeys(self._tables)
        self.imports = FakeSurveyImports(self._tables)

    def commit_repositories(self) -> None:
        """Make the copy the store's tables."""
        self.store.tables = self._tables

    def rollback_repositories(self) -> None:
        """Drop the copy."""
        self._tables = FakeTables()


def _copy(record: ChildRecord) -> ChildRecord:
    return copy.deepcopy(record)


def _stored_case(case: Case) -> Case:
    stored = copy.deepcopy(case)
    stored.events.clear()  # what a case loaded from the tables carries: nothing to publish yet
    return stored


class FakeChildrenRepository(ChildrenRepository):
    """Children, cases and consent in dictionaries."""

    def __init__(self, tables: FakeTables) -> None:
        self.tables = tables

    async def get(self, child_id: str) -> ChildRecord | None:
        """A copy of the record, or None."""
        record = self.tables.children.get(child_id)
        return _copy(record) if record else None

    async def by_sources(self, keys: Collection[SourceKey]) -> dict[SourceKey, ChildRecord]:
        """Records by source record."""
        wanted = set(keys)
        return {(r.child.source_system, r.child.source_record_id): _copy(r) for r in self.tables.children.values()
                if (r.child.source_system, r.child.source_record_id) in wanted}

    async def registered(self, source_system: str, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Child id and row digest per registered source record id."""
        wanted = set(ids)
        return {r.child.source_record_id: (r.child_id, r.source_digest or "") for r in self.tables.children.values()
                if r.child.source_system == source_system and r.child.source_record_id in wanted}

    async def add(self, record: ChildRecord) -> None:
        """Store a new record; a second record from one source record is refused, as the unique index does."""
        source = (record.child.source_system, record.child.source_record_id)
        if record.child_id in self.tables.children or await self.by_sources([source]):
            raise DuplicateKey(record.child_id)
        self.tables.children[record.child_id] = _copy(record)

    async def add_all(self, records: Sequence[ChildRecord], cases: Sequence[Case],
                      consents: Sequence[GuardianConsent]) -> None:
        """Store many new records, cases and consent."""
        for record in records:
            await self.add(record)
        for case in cases:
            await self.save_case(case)
        for consent in consents:
            await self.save_consent(consent)

    async def save(self, record: ChildRecord, read_version: int) -> None:
        """Store the record as the next version of `read_version`."""
        stored = self.tables.children.get(record.child_id)
        if stored is None or stored.version != read_version:
            raise VersionConflict
        record.version = read_version + 1
        self.tables.children[record.child_id] = _copy(record)

    async def link_persons(self, records: Sequence[ChildRecord]) -> None:
        """Store the person ids only."""
        for record in records:
            held = self.tables.children[record.child_id].child
            held.person_id, held.person_linked_at = record.child.person_id, record.child.person_linked_at

    async def search(self, search: ChildSearch) -> list[ChildRecord]:
        """Records matching the search within its scope, by child id, at most `limit`."""
        found = sorted((r for r in self.tables.children.values() if self._matches(r, search)),
                       key=lambda r: r.child_id)
        return [_copy(r) for r in found[:search.limit]]

    def _matches(self, record: ChildRecord, search: ChildSearch) -> bool:
        child, case = record.child, self.tables.cases.get(record.child_id)
        village, birth = child.village_code, child.birth_date
        names = " | ".join([child.full_name, *record.aliases]).lower()
        return all((
            any(village == code or village.startswith(code + ".") for code in search.scope),
            not search.name or search.name.lower() in names,
            not search.nik_index or record.nik_index == search.nik_index,
            not search.village_code or village == search.village_code,
            not search.status or (case is not None and case.status is search.status),
            not search.born_after or (birth is not None and birth > search.born_after),
            not search.born_on_or_before or (birth is not None and birth <= search.born_on_or_before),
            not search.after or record.child_id > search.after))

    async def case_of(self, child_id: str) -> Case | None:
        """A copy of the child's case, or None."""
        case = self.tables.cases.get(child_id)
        return copy.deepcopy(case) if case else None

    async def cases_of(self, child_ids: Collection[str]) -> dict[str, Case]:
        """Copies of the children's cases."""
        return {child_id: copy.deepcopy(case) for child_id in child_ids
                if (case := self.tables.cases.get(child_id)) is not None}

    async def erase(self, record: ChildRecord, case: Case | None) -> None:
        """Store the erased record and replace its case's free texts."""
        await self.save(record, record.version)
        if case is not None:
            self.tables.cases[case.child_id] = erased_case(_stored_case(case))

    async def save_case(self, case: Case) -> None:
        """Store the case as it stands."""
        self.tables.cases[case.child_id] = _stored_case(case)

    async def consent_of(self, child_id: str) -> GuardianConsent:
        """A copy of the child's consent (empty when none was recorded)."""
        consent = self.tables.consent.get(child_id)
        return copy.deepcopy(consent) if consent else GuardianConsent(child_id, [])

    async def save_consent(self, consent: GuardianConsent) -> None:
        """Store the consent as it stands."""
        self.tables.consent[consent.child_id] = copy.deepcopy(consent)


class FakeRegionRepository(RegionRepository):
    """Regions in a dictionary."""

    def __init__(self, tables: FakeTables) -> None:
        self.tables = tables

    async def is_current_village(self, code: str) -> bool:
        """True for a stored village not retired."""
        row = self.tables.regions.get(code)
        return row is not None and row.region.level in VILLAGES and row.retired_at is None

    async def is_known_kecamatan(self, code: str) -> bool:
        """True for a stored kecamatan, retired or not."""
        row = self.tables.regions.get(code)
        return row is not None and row.region.level is Level.KECAMATAN

    async def codes(self) -> tuple[frozenset[str], frozenset[str]]:
        """Current villages and every kecamatan."""
        rows = self.tables.regions.values()
        return (frozenset(r.region.code for r in rows if r.region.level in VILLAGES and r.retired_at is None),
                frozenset(r.region.code for r in rows if r.region.level is Level.KECAMATAN))

    async def provinces(self) -> tuple[str, ...]:
        """Every province code."""
        return tuple(r.region.code for r in self.tables.regions.values() if r.region.level is Level.PROVINSI)

    async def lock_for_import(self) -> None:
        """Nothing to lock: one process."""

    async def stored_in(self, provinces: Collection[str]) -> dict[str, StoredRegion]:
        """Stored regions of these provinces."""
        return {code: StoredRegion(code, row.region.name, row.version, row.retired_at is not None)
                for code, row in self.tables.regions.items() if code[:2] in provinces}

    async def create(self, created: Sequence[Region], now: dt.datetime) -> None:
        """New regions at version 1."""
        for region in created:
            self.tables.regions[region.code] = StoredRegionRow(region)
            self.tables.region_versions.append((region.code, 1, region.name, now, None))

    async def revise(self, revisions: Sequence[Revision], now: dt.datetime) -> None:
        """Renamed or un-retired regions at their next version."""
        for revision in revisions:
            row = self.tables.regions[revision.region.code]
            row.region = Region(row.region.code, revision.region.name, row.region.level, row.region.parent_code,
                                row.region.aliases)
            row.version, row.retired_at = revision.version, None
            self._close(row.region.code, now)
            self.tables.region_versions.append((row.region.code, revision.version, revision.region.name, now, None))

    async def retire(self, codes: Sequence[str], now: dt.datetime) -> None:
        """Retired regions, their open version closed."""
        for code in codes:
            self.tables.regions[code].retired_at = now
            self._close(code, now)

    def _close(self, code: str, now: dt.datetime) -> None:
        self.tables.region_versions = [(c, v, n, start, now if c == code and end is None else end)
                                       for c, v, n, start, end in self.tables.region_versions]


class FakeIdempotencyKeys(InMemoryIdempotencyKeys, ChildAnswers):
    """The platform's in-memory keys over the unit of work's copy of the tables (so a rollback forgets a key)."""

    def __init__(self, tables: FakeTables) -> None:
        super().__init__()
        self.keys = tables.keys

    async def forget_answers_naming(self, child_id: str) -> int:
        """Forget the keys whose answer holds the child's id."""
        naming = [name for name, stored in self.keys.items() if child_id.encode() in stored.answer.body]
        for name in naming:
            del self.keys[name]
        return len(naming)


class FakeSurveyImports(SurveyImports):
    """Import records in a dictionary."""

    def __init__(self, tables: FakeTables) -> None:
        self.tables = tables

    async def start(self, report: ImportReport, subject: str, survey: SurveyFile) -> None:
        """Record the import as started."""
        self.tables.imports[report.import_id] = (subject, copy.deepcopy(report), False)

    async def finish(self, report: ImportReport) -> None:
        """Record the import as finished."""
        subject, _, _ = self.tables.imports[report.import_id]
        self.tables.imports[report.import_id] = (subject, copy.deepcopy(report), True)

    async def finished(self, import_id: str, subject: str) -> ImportReport | None:
        """The finished report, for its subject only."""
        entry = self.tables.imports.get(import_id)
        if entry is None or entry[0] != subject or not entry[2]:
            return None
        return copy.deepcopy(entry[1])
