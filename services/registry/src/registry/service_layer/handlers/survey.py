"""Bulk import of a survey: each row is accepted or refused on its own, many rows per unit of work.

A batch of rows is one unit of work: its children, cases, consent, audit entries and outbox events commit
together, so a crash loses at most the batch in flight, and importing the file again finishes the job.
A row already registered from the same source (same source system and source record id) is left alone when
its content is unchanged and updated when it changed, so re-importing a file never creates a duplicate.
The import spans many transactions, so its handler takes a factory of units of work, not one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy.exc import IntegrityError

from registry.adapters import contract_mapping
from registry.domain.commands import UpdateChild
from registry.domain.consent import GuardianConsent
from registry.domain.details import ChildDetails
from registry.domain.errors import ImportNotFound, RegistryError
from registry.domain.record import ChildRecord
from registry.domain.survey import ImportReport, ImportSurvey, ReadImport, RefusedRow, RowError, Rows, SurveyEntry
from registry.service_layer import referral_details
from registry.service_layer.handlers.children import access, update_child
from registry.service_layer.registration import (
    RegionLookup,
    RegionsInMemory,
    Registration,
    child_in_scope,
    prepare_registration,
)
from registry.service_layer.unit_of_work import RegistryRules, RegistryUnitOfWork, UnitsOfWork
from simpul_contracts import Event
from simpul_platform.callers import Caller

YIELD_EVERY = 25


async def import_survey(command: ImportSurvey, uows: UnitsOfWork) -> ImportReport:
    """Register every good row, refuse the bad ones with reasons, and keep the report; returns the report.

    Batches go through two stages: planning (which rows are new, building records and events: CPU) and writing
    (one unit of work). A batch is written while the next one is planned, so the database works while Python does.
    """
    async with uows() as uow:
        rules = replace(uow.rules, source_system=command.source_system or uow.rules.source_system)
        importer = _Importer(uows, rules, command.by, RegionsInMemory(*await uow.regions.codes()))
        report = ImportReport(f"imp_{uuid.uuid4().hex}", rules.source_system)
        await uow.imports.start(report, command.by.subject, command.survey)
        await uow.commit()
    seen: dict[str, int] = {}
    writing: asyncio.Task[ImportReport] | None = None
    async for batch in _batches(command.rows, command.batch_rows):
        entries = _first_of_each_source(batch, seen, report)
        plan = await importer.plan(entries, report.import_id)
        if writing is not None:
            report.add(await writing)
        writing = asyncio.create_task(importer.write(plan))
        report.rows += len(batch)
        if command.progress is not None:
            command.progress(report.rows)
    if writing is not None:
        report.add(await writing)
    async with uows() as uow:
        await uow.imports.finish(report)
        await uow.commit()
    return report


async def read_import(command: ReadImport, uow: RegistryUnitOfWork) -> ImportReport:
    """A finished import's report, for the caller who ran it; ImportNotFound for anybody else."""
    report = await uow.imports.finished(command.import_id, command.by.subject)
    if report is None:
        raise ImportNotFound
    return report


@dataclass
class _Plan:
    """One batch, planned: what to create, what to update, and what its rows came to."""

    entries: Sequence[SurveyEntry]
    outcome: ImportReport
    new: list[Registration] = field(default_factory=list)
    consents: list[GuardianConsent] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    updates: list[tuple[str, SurveyEntry]] = field(default_factory=list)


@dataclass
class _Importer:
    uows: UnitsOfWork
    rules: RegistryRules
    by: Caller
    regions: RegionLookup

    async def plan(self, entries: Sequence[SurveyEntry], import_id: str) -> _Plan:
        """Look up which rows were registered before, then build the new children's records and events."""
        async with self.uows() as uow:
            existing = await uow.children.registered(self.rules.source_system, [e.source_record_id for e in entries])
        plan = _Plan(entries, ImportReport(import_id, self.rules.source_system))
        for number, entry in enumerate(entries):
            if number % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the batch being written send its next statement
            known = existing.get(entry.source_record_id)
            if known is None:
                await self._plan_new(plan, entry)
            elif known[1] == entry.digest:
                plan.outcome.unchanged += 1
            else:
                plan.updates.append((known[0], entry))
        return plan

    async def _plan_new(self, plan: _Plan, entry: SurveyEntry) -> None:
        try:
            registration = await prepare_registration(self.rules, self.by, self.regions, entry.details,
                                                      source_record_id=entry.source_record_id,
                                                      classify=entry.classify)
        except RegistryError as error:
            plan.outcome.errors.append(RowError(entry.row, error.field, error.reason))
            return
        registration.record.source_digest = entry.digest
        plan.new.append(registration)
        plan.consents.append(consent := _consent(registration, entry, self.by))
        record = registration.record
        details = referral_details.on_consent(record, consent, False, record.child.registered_at)
        plan.events += [*registration.events, *details, *_consent_events(registration, consent)]

    async def write(self, plan: _Plan) -> ImportReport:
        """Write a planned batch in one unit of work; plan it again if another import got there first."""
        try:
            await self._write(plan)
        except IntegrityError:
            # Another import registered one of these source records after we looked: look again, once.
            plan = await self.plan(plan.entries, plan.outcome.import_id)
            await self._write(plan)
        return plan.outcome

    async def _write(self, plan: _Plan) -> None:
        async with self.uows() as uow:
            for child_id, entry in plan.updates:
                await self._update(uow, plan, child_id, entry)
            await uow.children.add_all([r.record for r in plan.new], [r.case for r in plan.new if r.case],
                                       plan.consents)
            created = [r.record.child_id for r in plan.new]
            if created:
                uow.audit(access(self.by, "import", created, "survey import"))
            uow.publish(*plan.events)
            await uow.commit()
        plan.outcome.created = len(plan.new)

    async def _update(self, uow: RegistryUnitOfWork, plan: _Plan, child_id: str, entry: SurveyEntry) -> None:
        # A changed row updates the child's details; its case and consent columns only count on the first import,
        # since later changes to those go through the case and consent endpoints with who, when and why.
        # Every check comes before the record is written, so a refused row leaves nothing behind.
        try:
            record = await child_in_scope(uow.children, self.by, child_id)
            details = _keeping_phones(entry.details, record)
            await update_child(UpdateChild(self.by, child_id, record.version, details, entry.digest), uow)
        except RegistryError as error:
            plan.outcome.errors.append(RowError(entry.row, error.field, error.reason))
            return
        plan.outcome.updated += 1
        uow.audit(access(self.by, "import_update", [child_id], "survey import"))


def _keeping_phones(details: ChildDetails, record: ChildRecord) -> ChildDetails:
    """A survey has no phone columns: the guardians it names again keep the phones recorded over HTTP."""
    phones = {(g.name, g.relationship): g.phone for g in record.guardians if g.phone}
    if not phones:
        return details
    return replace(details, guardians=tuple(replace(g, phone=phones.get((g.name, g.relationship)))
                                            for g in details.guardians))


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


def _consent(registration: Registration, entry: SurveyEntry, by: Caller) -> GuardianConsent:
    consent = GuardianConsent(registration.record.child_id, [])
    at = registration.record.child.registered_at
    for purpose, decision in entry.consent:
        assert entry.consent_decided_on is not None  # the row checks ask for the date with any decision
        consent.record(purpose, decision, decided_on=entry.consent_decided_on, recorded_by=by.subject,
                       recorded_at=at)
    return consent


def _consent_events(registration: Registration, consent: GuardianConsent) -> list[Event]:
    child, case = registration.record.child, registration.case
    return [contract_mapping.consent_changed(child, case, consent, record) for record in consent.records]
