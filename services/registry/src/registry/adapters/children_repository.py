"""Child records, their cases and their guardians' consent: explicit mapping between rows and domain objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters import orm
from registry.domain.case import Case, ClassificationChange, StatusChange
from registry.domain.case_lifecycle import CaseStatus, Classification, ClosureReason
from registry.domain.closure import ClosureRule
from registry.domain.consent import ConsentDecision, ConsentPurpose, ConsentRecord, GuardianConsent
from registry.domain.model import Child
from registry.domain.visits import Hazard, MonitoringVisit, Schooling, SchoolStatus, WorkSector
from simpul_platform.bulk import insert_rows

_CHILD_FIELDS = ("child_id", "full_name", "sex", "village_code", "source_system", "source_record_id",
                 "registered_at", "birth_date", "birth_date_precision", "mother_name", "person_id")


@dataclass
class ChildRecord:
    """A child with the record's details the domain's Child does not carry, and the record's version (ETag)."""

    child: Child
    aliases: list[str] = field(default_factory=list)
    birth_date_estimated: bool = False
    nik: str | None = None
    nik_index: str | None = None
    kk_number: str | None = None
    identity_warnings: list[dict[str, str]] = field(default_factory=list)
    guardians: list[dict[str, str]] = field(default_factory=list)
    school: dict[str, Any] | None = None
    work: dict[str, Any] | None = None
    version: int = 1
    updated_at: dt.datetime | None = None
    source_digest: str | None = None  # the survey row it came from, when bulk imported

    def row(self) -> dict[str, Any]:
        """The record as a row of `children`."""
        values = {name: getattr(self.child, name) for name in _CHILD_FIELDS}
        details = {name: getattr(self, name) for name in (
            "aliases", "birth_date_estimated", "nik", "nik_index", "kk_number", "identity_warnings", "guardians",
            "school", "work", "version", "updated_at", "source_digest")}
        return values | details | {"name_search": " | ".join([self.child.full_name, *self.aliases]).lower()}


@dataclass(frozen=True)
class ChildSearch:
    """What a search asks for; scope is the caller's region codes."""

    scope: tuple[str, ...]
    name: str | None = None  # part of the full name or of an alias
    nik_index: str | None = None  # the blind index of a NIK: children with exactly that NIK
    village_code: str | None = None
    status: CaseStatus | None = None
    born_after: dt.date | None = None
    born_on_or_before: dt.date | None = None
    after: str | None = None
    limit: int = 20


class VersionConflict(Exception):
    """The record changed since the version the caller read."""


def _child_record(row: Any) -> ChildRecord:
    values = row._mapping
    child = Child(**{name: values[name] for name in _CHILD_FIELDS})
    child.registered_at = _aware(child.registered_at)
    details = {name: values[name] for name in (
        "aliases", "birth_date_estimated", "nik", "nik_index", "kk_number", "identity_warnings", "guardians",
        "school", "work", "version", "source_digest")}
    updated_at = values["updated_at"]
    return ChildRecord(child, **details, updated_at=_aware(updated_at) if updated_at else None)


class ChildrenRepository:
    """Loads and stores child records, cases and consent within the caller's session."""

    def __init__(self, session: AsyncSession, closure_rule: ClosureRule) -> None:
        self.session = session
        self.closure_rule = closure_rule
        self._stored: dict[int, tuple[int, int, int]] = {}  # what of a loaded case is already in the tables
        self._stored_consent: dict[int, int] = {}

    async def get(self, child_id: str) -> ChildRecord | None:
        """The record, or None."""
        row = (await self.session.execute(select(orm.children).where(orm.children.c.child_id == child_id))).first()
        return _child_record(row) if row else None

    async def add(self, record: ChildRecord) -> None:
        """Store a new record."""
        await self.session.execute(insert(orm.children).values(record.row()))

    async def add_all(self, records: Sequence[ChildRecord], cases: Sequence[Case],
                      consents: Sequence[GuardianConsent]) -> None:
        """Store many new records with their new cases and consent, a statement per table (bulk import)."""
        session = self.session
        await insert_rows(session, orm.children, [record.row() for record in records])
        await insert_rows(session, orm.cases, [_case_row(case) for case in cases])
        await insert_rows(session, orm.case_status_changes, [
            _status_row(case.case_id, seq, change) for case in cases for seq, change in enumerate(case.status_history)])
        await insert_rows(session, orm.case_classification_changes, [
            _classification_row(case.case_id, seq, change) for case in cases
            for seq, change in enumerate(case.classification_history)])
        await insert_rows(session, orm.consent_records, [
            _consent_row(consent.child_id, record) for consent in consents for record in consent.records])

    async def save(self, record: ChildRecord, read_version: int) -> None:
        """Store a changed record as the next version of `read_version`; VersionConflict when it moved on."""
        record.version = read_version + 1
        c = orm.children.c
        query = update(orm.children).where(c.child_id == record.child.child_id, c.version == read_version)
        if (await self.session.execute(query.values(record.row()))).rowcount != 1:  # type: ignore[attr-defined]
            raise VersionConflict

    async def touch(self, record: ChildRecord) -> None:
        """Advance the record's version for a change of its case or consent, so stale ETags stop matching."""
        await self.save(record, record.version)

    async def search(self, search: ChildSearch) -> list[ChildRecord]:
        """Records matching the search within its scope, ordered by child id, at most `limit`."""
        rows = await self.session.execute(_search_query(search))
        return [_child_record(row) for row in rows]

    async def case_of(self, child_id: str) -> Case | None:
        """The child's case with its histories and visits, or None."""
        row = (await self.session.execute(select(orm.cases).where(orm.cases.c.child_id == child_id))).first()
        if row is None:
            return None
        case_id = row.case_id
        statuses = [_status_change(r) for r in await self._rows(orm.case_status_changes, case_id, "seq")]
        classes = [_classification_change(r) for r in await self._rows(orm.case_classification_changes, case_id,
                                                                       "seq")]
        visits = [_visit(r) for r in await self._rows(orm.monitoring_visits, case_id, "visited_on")]
        case = Case(case_id, child_id, statuses, classes, visits, closure_rule=self.closure_rule)
        self._stored[id(case)] = (len(statuses), len(classes), len(visits))
        return case

    async def save_case(self, case: Case) -> None:
        """Store what is new on the case: its row when new, then the new history entries and visits."""
        statuses, classes, visits = self._stored.get(id(case), (0, 0, 0))
        row = _case_row(case)
        if id(case) in self._stored:
            await self.session.execute(update(orm.cases).where(orm.cases.c.case_id == case.case_id).values(row))
        else:
            await self.session.execute(insert(orm.cases).values(row))
        for seq, change in enumerate(case.status_history[statuses:], start=statuses):
            await self.session.execute(insert(orm.case_status_changes).values(_status_row(case.case_id, seq, change)))
        for seq, reclass in enumerate(case.classification_history[classes:], start=classes):
            await self.session.execute(insert(orm.case_classification_changes).values(
                _classification_row(case.case_id, seq, reclass)))
        for visit in case.visits[visits:]:
            await self.session.execute(insert(orm.monitoring_visits).values(_visit_row(case.case_id, visit)))
        self._stored[id(case)] = (len(case.status_history), len(case.classification_history), len(case.visits))

    async def consent_of(self, child_id: str) -> GuardianConsent:
        """Every consent decision recorded for the child, in the order recorded."""
        c = orm.consent_records.c
        rows = await self.session.execute(select(orm.consent_records).where(c.child_id == child_id).order_by(c.id))
        consent = GuardianConsent(child_id, [
            ConsentRecord(ConsentPurpose(r.purpose), ConsentDecision(r.decision), r.decided_on, r.recorded_by,
                          _aware(r.recorded_at)) for r in rows])
        self._stored_consent[id(consent)] = len(consent.records)
        return consent

    async def save_consent(self, consent: GuardianConsent) -> None:
        """Store the decisions recorded since the consent was loaded."""
        for record in consent.records[self._stored_consent.get(id(consent), 0):]:
            await self.session.execute(insert(orm.consent_records).values(_consent_row(consent.child_id, record)))
        self._stored_consent[id(consent)] = len(consent.records)

    async def _rows(self, table: Any, case_id: str, order: str) -> list[Any]:
        query = select(table).where(table.c.case_id == case_id).order_by(table.c[order])
        return list(await self.session.execute(query))


def _search_query(search: ChildSearch) -> Select[Any]:
    c = orm.children.c
    in_scope = [or_(c.village_code == code, c.village_code.startswith(code + ".")) for code in search.scope]
    query = select(orm.children).outerjoin(orm.cases, orm.cases.c.child_id == c.child_id).where(or_(*in_scope))
    conditions = []
    if search.name:
        conditions.append(c.name_search.contains(search.name.lower(), autoescape=True))
    if search.nik_index:
        conditions.append(c.nik_index == search.nik_index)
    if search.village_code:
        conditions.append(c.village_code == search.village_code)
    if search.status:
        conditions.append(orm.cases.c.status == search.status.value)
    if search.born_after:
        conditions.append(c.birth_date > search.born_after)
    if search.born_on_or_before:
        conditions.append(c.birth_date <= search.born_on_or_before)
    if search.after:
        conditions.append(c.child_id > search.after)
    return query.where(and_(True, *conditions)).order_by(c.child_id).limit(search.limit)


def _aware(at: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def _status_change(row: Any) -> StatusChange:
    return StatusChange(CaseStatus(row.status), CaseStatus(row.previous) if row.previous else None, row.by,
                        _aware(row.at), row.reason, ClosureReason(row.closure_reason) if row.closure_reason else None)


def _status_row(case_id: str, seq: int, change: StatusChange) -> dict[str, Any]:
    return {"case_id": case_id, "seq": seq, "status": change.status.value,
            "previous": change.previous.value if change.previous else None,
            "closure_reason": change.closure_reason.value if change.closure_reason else None,
            "by": change.by, "at": change.at, "reason": change.reason}


def _case_row(case: Case) -> dict[str, Any]:
    return {"case_id": case.case_id, "child_id": case.child_id, "status": case.status.value,
            "classification": case.classification.value}


def _classification_row(case_id: str, seq: int, change: ClassificationChange) -> dict[str, Any]:
    return {"case_id": case_id, "seq": seq, "classification": change.classification.value,
            "previous": change.previous.value if change.previous else None, "by": change.by, "at": change.at,
            "reason": change.reason}


def _consent_row(child_id: str, record: ConsentRecord) -> dict[str, Any]:
    return {"child_id": child_id, "purpose": record.purpose.value, "decision": record.decision.value,
            "decided_on": record.decided_on, "recorded_by": record.recorded_by, "recorded_at": record.recorded_at}


def _classification_change(row: Any) -> ClassificationChange:
    return ClassificationChange(Classification(row.classification),
                                Classification(row.previous) if row.previous else None, row.by, _aware(row.at),
                                row.reason)


def _visit(row: Any) -> MonitoringVisit:
    schooling = Schooling(SchoolStatus(row.school_status), row.school_grade, row.attends_school_regularly)
    return MonitoringVisit(row.visit_id, row.visited_on, row.visitor, row.child_working, schooling,
                           frozenset(WorkSector(s) for s in row.sectors), row.work_activities, row.hours_per_week,
                           frozenset(Hazard(h) for h in row.hazards), row.notes)


def _visit_row(case_id: str, visit: MonitoringVisit) -> dict[str, Any]:
    return {"visit_id": visit.visit_id, "case_id": case_id, "visited_on": visit.visited_on,
            "visitor": visit.visitor, "child_working": visit.child_working,
            "school_status": visit.schooling.status.value, "school_grade": visit.schooling.grade,
            "attends_school_regularly": visit.schooling.attends_regularly,
            "sectors": sorted(s.value for s in visit.sectors), "hazards": sorted(h.value for h in visit.hazards),
            "work_activities": visit.work_activities, "hours_per_week": visit.hours_per_week, "notes": visit.notes,
            "recorded_at": dt.datetime.now(dt.UTC)}

