"""The registry's repositories as the service layer sees them; SQL and in-memory implementations agree on these."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Collection, Sequence

from registry.domain.case import Case
from registry.domain.consent import GuardianConsent
from registry.domain.record import ChildRecord, ChildSearch
from registry.domain.regions import Region, Revision, StoredRegion
from registry.domain.survey import ImportReport, SurveyFile
from simpul_platform.idempotency import IdempotencyKeys

SourceKey = tuple[str, str]  # (source system, source record id)


class ChildAnswers(IdempotencyKeys, abc.ABC):
    """The platform's Idempotency-Keys, which can also forget the stored answers that show a child (an erasure)."""

    @abc.abstractmethod
    async def forget_answers_naming(self, child_id: str) -> int:
        """Delete every stored answer that holds the child's id (its record); return how many."""


class ChildrenRepository(abc.ABC):
    """Child records, their cases and their guardians' consent."""

    @abc.abstractmethod
    async def get(self, child_id: str) -> ChildRecord | None:
        """The record, or None."""

    @abc.abstractmethod
    async def by_sources(self, keys: Collection[SourceKey]) -> dict[SourceKey, ChildRecord]:
        """The records registered from these source records, by (source system, source record id)."""

    @abc.abstractmethod
    async def registered(self, source_system: str, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """For each source record id already registered: its child id and the digest of the row it came from."""

    @abc.abstractmethod
    async def add(self, record: ChildRecord) -> None:
        """Store a new record."""

    @abc.abstractmethod
    async def add_all(self, records: Sequence[ChildRecord], cases: Sequence[Case],
                      consents: Sequence[GuardianConsent]) -> None:
        """Store many new records with their new cases and consent at once (bulk import)."""

    @abc.abstractmethod
    async def save(self, record: ChildRecord, read_version: int) -> None:
        """Store a changed record as the next version of `read_version`; VersionConflict when it moved on."""

    async def touch(self, record: ChildRecord) -> None:
        """Advance the record's version for a change of its case or consent, so stale ETags stop matching."""
        await self.save(record, record.version)

    @abc.abstractmethod
    async def erase(self, record: ChildRecord, case: Case | None) -> None:
        """Store the erased record as its next version and replace the free texts of its case (`domain.erasure`)."""

    @abc.abstractmethod
    async def link_persons(self, records: Sequence[ChildRecord]) -> None:
        """Store the records' person ids, leaving their versions alone (a link is identity's fact, not an edit)."""

    @abc.abstractmethod
    async def search(self, search: ChildSearch) -> list[ChildRecord]:
        """Records matching the search within its scope, ordered by child id, at most `limit`."""

    @abc.abstractmethod
    async def case_of(self, child_id: str) -> Case | None:
        """The child's case with its histories and visits, or None."""

    @abc.abstractmethod
    async def cases_of(self, child_ids: Collection[str]) -> dict[str, Case]:
        """The cases of many children at once, by child id (children without one are left out)."""

    @abc.abstractmethod
    async def save_case(self, case: Case) -> None:
        """Store what is new on the case."""

    @abc.abstractmethod
    async def consent_of(self, child_id: str) -> GuardianConsent:
        """Every consent decision recorded for the child, in the order recorded."""

    @abc.abstractmethod
    async def save_consent(self, consent: GuardianConsent) -> None:
        """Store the decisions recorded since the consent was loaded."""


class RegionRepository(abc.ABC):
    """The region reference data: what registrations check against, and what an import diffs and writes."""

    @abc.abstractmethod
    async def is_current_village(self, code: str) -> bool:
        """True for a village of the reference data that is not retired."""

    @abc.abstractmethod
    async def is_known_kecamatan(self, code: str) -> bool:
        """True for a kecamatan of the reference data, retired ones included (NIKs keep old codes)."""

    @abc.abstractmethod
    async def codes(self) -> tuple[frozenset[str], frozenset[str]]:
        """Every current village code and every kecamatan code (retired included), for checks in bulk."""

    @abc.abstractmethod
    async def provinces(self) -> tuple[str, ...]:
        """Every province code."""

    @abc.abstractmethod
    async def lock_for_import(self) -> None:
        """Make concurrent imports wait for each other rather than fail on the same new codes."""

    @abc.abstractmethod
    async def stored_in(self, provinces: Collection[str]) -> dict[str, StoredRegion]:
        """Every stored region (current or retired) of these provinces, by code."""

    @abc.abstractmethod
    async def create(self, created: Sequence[Region], now: dt.datetime) -> None:
        """Insert new regions at version 1."""

    @abc.abstractmethod
    async def revise(self, revisions: Sequence[Revision], now: dt.datetime) -> None:
        """Make each revision the current version (renamed, or back from retirement)."""

    @abc.abstractmethod
    async def retire(self, codes: Sequence[str], now: dt.datetime) -> None:
        """Mark regions retired and close their current version; nothing is deleted."""


class SurveyImports(abc.ABC):
    """The record of each survey import: who ran it, on what file, and its report."""

    @abc.abstractmethod
    async def start(self, report: ImportReport, subject: str, survey: SurveyFile) -> None:
        """Record an import as started."""

    @abc.abstractmethod
    async def finish(self, report: ImportReport) -> None:
        """Record an import as finished with its report."""

    @abc.abstractmethod
    async def finished(self, import_id: str, subject: str) -> ImportReport | None:
        """A finished import's report, for the subject who ran it; None otherwise."""
