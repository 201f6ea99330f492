"""Bulk import of a survey: each row is accepted or refused on its own, many rows per transaction.

A batch of rows is one transaction: its children, cases, consent, audit entries and outbox events commit
together, so a crash loses at most the batch in flight, and importing the file again finishes the job.
A row already registered from the same source (same source system and source record id) is left alone when
its content is unchanged and updated when it changed, so re-importing a file never creates a duplicate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters import contract_mapping, orm
from registry.adapters.children_repository import ChildrenRepository
from registry.domain.consent import ConsentDecision, ConsentPurpose, GuardianConsent
from registry.domain.errors import RegistryError
from registry.service_layer import children
from simpul_contracts import Event
from simpul_platform.audit import audit
from simpul_platform.auth import Principal

BATCH_ROWS = 500
YIELD_EVERY = 25
Transactions = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Progress = Callable[[int], None]  # rows done so far


@dataclass(frozen=True)
class RowError:
    """Why a row was refused: its row number as the spreadsheet shows it, the column and the reason (no value)."""

    row: int
    column: str
    reason: str


@dataclass(frozen=True)
class SurveyEntry:
    """A row that passed the file's own checks, ready to register: what `register_child` takes, and more."""

    row: int
    source_record_id: str
    details: dict[str, Any]
    classify: children.Classify | None
    consent: tuple[tuple[ConsentPurpose, ConsentDecision], ...]
    consent_decided_on: dt.date | None
    digest: str


@dataclass(frozen=True)
class RefusedRow:
    """A row the file's own checks refused, with every reason found."""

    row: int
    errors: tuple[RowError, ...]


Rows = Iterable[SurveyEntry | RefusedRow] | AsyncIterable[SurveyEntry | RefusedRow]  # checked, in file order


@dataclass
class ImportReport:
    """What an import did; `errors` is the per-row report a cadre fixes the file from."""

    import_id: str
    source_system: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Rows refused, however many reasons each had."""
        return len({error.row for error in self.errors})

    def add(self, batch: ImportReport) -> None:
        """Count in what a committed batch did."""
        self.created += batch.created
        self.updated += batch.updated
        self.unchanged += batch.unchanged
        self.errors.extend(batch.errors)

    def counts(self) -> dict[str, int]:
        """The counts, in the order a person reads them."""
        return {"rows": self.rows, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected}


@dataclass(frozen=True)
class SurveyFile:
    """Where the rows came from, for the import's record."""

    name: str
    sha256: str


async def import_survey(transactions: Transactions, registry: children.Registry, principal: Principal,
                        rows: Rows, survey: SurveyFile, *,
                        source_system: str | None = None, batch_rows: int = BATCH_ROWS,
                        progress: Progress | None = None) -> ImportReport:
    """Register every good row, refuse the bad ones with reasons, and keep the report; returns the report.

    Batches go through two stages: planning (which rows are new, building records and events: CPU) and writing
    (one transaction). A batch is written while the next one is planned, so the database works while Python does.
    """
    importer = _Importer(transactions, replace(registry, source_system=source_system or registry.source_system),
                         principal)
    report = ImportReport(f"imp_{uuid.uuid4().hex}", importer.registry.source_system)
    async with transactions() as session:
        importer.regions = await children.RegionsInMemory.load(session)
        await _start(session, report, principal, survey)
    seen: dict[str, int] = {}
    writing: asyncio.Task[ImportReport] | None = None
    async for batch in _batches(rows, batch_rows):
        entries = _first_of_each_source(batch, seen, report)
        plan = await importer.plan(entries, report.import_id)
        if writing is not None:
            report.add(await writing)
        writing = asyncio.create_task(importer.write(plan))
        report.rows += len(batch)
        if progress is not None:
            progress(report.rows)
    if writing is not None:
        report.add(await writing)
    async with transactions() as session:
        await _finish(session, report)
    return report


@dataclass
class _Plan:
    """One batch, planned: what to create, what to update, and what its rows came to."""

    entries: Sequence[SurveyEntry]
    outcome: ImportReport
    new: list[children.Registration] = field(default_factory=list)
    consents: list[GuardianConsent] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    updates: list[tuple[str, SurveyEntry]] = field(default_factory=list)


@dataclass
class _Importer:
    transactions: Transactions
    registry: children.Registry
    principal: Principal
    regions: children.RegionLookup | None = None

    async def plan(self, entries: Sequence[SurveyEntry], import_id: str) -> _Plan:
        """Look up which rows were registered before, then build the new children's records and events."""
        async with self.transactions() as session:
            existing = await _registered(session, self.registry.source_system, [e.source_record_id for e in entries])
        plan = _Plan(entries, ImportReport(import_id, self.registry.source_system))
        assert self.regions is not None
        for number, entry in enumerate(entries):
            if number % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the batch being written send its next statement
            known = existing.get(entry.source_record_id)
            if known is None:
                try:
                    registration = await _registration(self.registry, self.principal, self.regions, entry)
                except RegistryError as error:
                    plan.outcome.errors.append(RowError(entry.row, error.field, error.reason))
                    continue
                plan.new.append(registration)
                plan.consents.append(consent := _consent(registration, entry, self.principal))
                plan.events += [*registration.events, *_consent_events(registration, consent)]
            elif known[1] == entry.digest:
                plan.outcome.unchanged += 1
            else:
                plan.updates.append((known[0], entry))
        return plan

    async def write(self, plan: _Plan) -> ImportReport:
        """Write a planned batch in one transaction; plan it again if another import got there first."""
        try:
            async with self.transactions() as session:
                await self._write(session, plan)
        except IntegrityError:
            # Another import registered one of these source records after we looked: look again, once.
            plan = await self.plan(plan.entries, plan.outcome.import_id)
            async with self.transactions() as session:
                await self._write(session, plan)
        return plan.outcome

    async def _write(self, session: AsyncSession, plan: _Plan) -> None:
        registry, principal = self.registry, self.principal
        for child_id, entry in plan.updates:
            try:
                await _update(session, registry, principal, child_id, entry)
                plan.outcome.updated += 1
            except RegistryError as error:
                plan.outcome.errors.append(RowError(entry.row, error.field, error.reason))
        await ChildrenRepository(session, registry.closure_rule).add_all(
            [r.record for r in plan.new], [r.case for r in plan.new if r.case is not None], plan.consents)
        await _audit(session, principal, [r.record.child.child_id for r in plan.new])
        await registry.outbox.add(session, *plan.events)
        plan.outcome.created = len(plan.new)


async def reported(session: AsyncSession, import_id: str, principal: Principal) -> ImportReport | None:
    """A finished import's report, for the principal who ran it; None otherwise."""
    s = orm.survey_imports.c
    row = (await session.execute(select(orm.survey_imports).where(
        s.import_id == import_id, s.imported_by == principal.subject, s.finished_at.is_not(None)))).first()
    if row is None:
        return None
    counts = row.counts
    return ImportReport(row.import_id, row.source_system, counts["rows"], counts["created"], counts["updated"],
                        counts["unchanged"], [RowError(**error) for error in row.errors])


async def _batches(rows: Rows, size: int) -> AsyncIterator[list[SurveyEntry | RefusedRow]]:
    batch: list[SurveyEntry | RefusedRow] = []
    async for row in _each(rows):
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _each(rows: Rows) -> AsyncIterator[SurveyEntry | RefusedRow]:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


def _first_of_each_source(batch: Sequence[SurveyEntry | RefusedRow], seen: dict[str, int],
                          report: ImportReport) -> list[SurveyEntry]:
    entries = []
    for row in batch:
        if isinstance(row, RefusedRow):
            report.errors.extend(row.errors)
        elif row.source_record_id in seen:
            report.errors.append(RowError(row.row, "source_record_id", f"repeats row {seen[row.source_record_id]}"))
        else:
            seen[row.source_record_id] = row.row
            entries.append(row)
    return entries


async def _registration(registry: children.Registry, principal: Principal, regions: children.RegionLookup,
                        entry: SurveyEntry) -> children.Registration:
    registration = await children.prepare_registration(registry, principal, regions, entry.details,
                                                       source_record_id=entry.source_record_id,
                                                       classify=entry.classify)
    registration.record.source_digest = entry.digest
    return registration


def _consent(registration: children.Registration, entry: SurveyEntry, principal: Principal) -> GuardianConsent:
    consent = GuardianConsent(registration.record.child.child_id, [])
    at = registration.record.child.registered_at
    for purpose, decision in entry.consent:
        assert entry.consent_decided_on is not None  # the row checks ask for the date with any decision
        consent.record(purpose, decision, decided_on=entry.consent_decided_on, recorded_by=principal.subject,
                       recorded_at=at)
    return consent


def _consent_events(registration: children.Registration, consent: GuardianConsent) -> list[Event]:
    child, case = registration.record.child, registration.case
    return [contract_mapping.consent_changed(child, case, consent, record) for record in consent.records]


async def _update(session: AsyncSession, registry: children.Registry, principal: Principal, child_id: str,
                  entry: SurveyEntry) -> None:
    # A changed row updates the child's details; its case and consent columns only count on the first import,
    # since later changes to those go through the case and consent endpoints with who, when and why.
    repository = ChildrenRepository(session, registry.closure_rule)
    record = await children.child_in_scope(repository, principal, child_id)
    async with session.begin_nested():
        await children.update_child(session, registry, principal, child_id, read_version=record.version,
                                    changes=entry.details)
        await session.execute(update(orm.children).where(orm.children.c.child_id == child_id).values(
            source_digest=entry.digest))
        await _audit(session, principal, [child_id], action="import_update")


async def _registered(session: AsyncSession, source_system: str, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    c = orm.children.c
    query = select(c.source_record_id, c.child_id, c.source_digest).where(
        c.source_system == source_system, c.source_record_id.in_(ids))
    return {row.source_record_id: (row.child_id, row.source_digest or "") for row in await session.execute(query)}


async def _audit(session: AsyncSession, principal: Principal, child_ids: Sequence[str],
                 action: str = "import") -> None:
    await audit(session, orm.audit_log, subject=principal.subject, role=principal.role.value, action=action,
                resource="child", resource_ids=child_ids, reason="survey import")


async def _start(session: AsyncSession, report: ImportReport, principal: Principal, survey: SurveyFile) -> None:
    await session.execute(insert(orm.survey_imports).values(
        import_id=report.import_id, source_system=report.source_system, file_name=survey.name[:255],
        file_sha256=survey.sha256, imported_by=principal.subject, started_at=dt.datetime.now(dt.UTC),
        counts=report.counts(), errors=[]))


async def _finish(session: AsyncSession, report: ImportReport) -> None:
    await session.execute(update(orm.survey_imports).where(orm.survey_imports.c.import_id == report.import_id).values(
        finished_at=dt.datetime.now(dt.UTC), counts=report.counts(),
        errors=[{"row": e.row, "column": e.column, "reason": e.reason} for e in report.errors]))
