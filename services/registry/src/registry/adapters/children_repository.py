"""Child records, their cases and their guardians' consent in SQL: explicit mapping between rows and domain objects."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, and_, bindparam, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters import orm
from registry.adapters.erasure import erase_case_texts
from registry.adapters.repository import ChildrenRepository, SourceKey
from registry.domain.case import Case, ClassificationChange, StatusChange
from registry.domain.case_lifecycle import CaseStatus, Classification, ClosureReason
from registry.domain.closure import ClosureRule
from registry.domain.consent import ConsentDecision, ConsentPurpose, ConsentRecord, GuardianConsent
from registry.domain.details import Guardian, School, Work
from registry.domain.errors import VersionConflict
from registry.domain.identity_numbers import ConsistencyWarning, WarningCode
from registry.domain.model import Child
from registry.domain.record import ChildRecord, ChildSearch
from registry.domain.visits import Hazard, MonitoringVisit, Schooling, SchoolStatus, WorkSector
from simpul_platform.bulk import insert_rows
from simpul_platform.field_encryption import row_key, seal, unseal

_CHILD_FIELDS = ("child_id", "full_name", "sex", "village_code", "source_system", "source_record_id",
                 "registered_at", "birth_date", "birth_date_precision", "mother_name", "person_id",
                 "person_linked_at")
_RECORD_FIELDS = ("aliases", "birth_date_estimated", "nik", "nik_index", "kk_number", "version", "source_digest")
_SEALED_FIELDS = ("nik", "kk_number")  # encrypted, each token bound to its column and the child's row


def child_row(record: ChildRecord) -> dict[str, Any]:
    """The record as a row of `children`."""
    child = record.child
    values = {name: getattr(child, name) for name in _CHILD_FIELDS}
    values |= {name: getattr(record, name) for name in _RECORD_FIELDS}
    values |= {name: seal(row_key(child.child_id), getattr(record, name)) for name in _SEALED_FIELDS}
    return values | {
        "identity_warnings": [{"code": w.code.value, "field": w.field, "reason": w.reason}
                              for w in record.identity_warnings],
        "guardians": [{"name": g.name, "relationship": g.relationship} | ({"phone": g.phone} if g.phone else {})
                      for g in record.guardians],
        "school": {"status": record.school.status.value, "grade": record.school.grade} if record.school else None,
        "work": _work_json(record.work) if record.work else None,
        "updated_at": record.updated_at, "erased_at": record.erased_at,
        "name_search": " | ".join([child.full_name, *record.aliases]).lower()}


def _work_json(work: Work) -> dict[str, Any]:
    return {"sectors": [s.value for s in work.sectors], "tasks": work.tasks, "hours_per_week": work.hours_per_week,
            "hazards": [h.value for h in work.hazards]}


def _child_record(row: Any) -> ChildRecord:
    values = row._mapping
    child = Child(**{name: values[name] for name in _CHILD_FIELDS})
    child.registered_at = _aware(child.registered_at)
    child.person_linked_at = _aware(child.person_linked_at) if child.person_linked_at else None
    updated_at, erased_at = values["updated_at"], values["erased_at"]
    school, work = values["school"], values["work"]
    record_values = {name: values[name] for name in _RECORD_FIELDS}
    record_values |= {name: unseal(row_key(child.child_id), values[name]) for name in _SEALED_FIELDS}
    return ChildRecord(
        child, **record_values,
        identity_warnings=[ConsistencyWarning(WarningCode(w["code"]), w["field"], w["reason"])
                           for w in values["identity_warnings"]],
        guardians=[Guardian(g["name"], g["relationship"], g.get("phone")) for g in values["guardians"]],
        school=School(SchoolStatus(school["status"]), school.get("grade")) if school else None,
        work=Work(tuple(WorkSector(s) for s in work.get("sectors", ())), work.get("tasks", ""),
                  work.get("hours_per_week"), tuple(Hazard(h) for h in work.get("hazards", ()))) if work else None,
        updated_at=_aware(updated_at) if updated_at else None, erased_at=_aware(erased_at) if erased_at else None)


class SqlChildrenRepository(ChildrenRepository):
    """Loads and stores child records, cases and consent within the unit of work's session."""

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
        await self.session.execute(insert(orm.children).values(child_row(record)))

    async def add_all(self, records: Sequence[ChildRecord], cases: Sequence[Case],
                      consents: Sequence[GuardianConsent]) -> None:
        """Store many new records with their new cases and consent, a statement per table (bulk import)."""
        session = self.session
        await insert_rows(session, orm.children, [child_row(record) for record in records])
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
        if (await self.session.execute(query.values(child_row(record)))).rowcount != 1:  # type: ignore[attr-defined]
            raise VersionConflict

    async def erase(self, record: ChildRecord, case: Case | None) -> None:
        """Store the erased record (next version) and replace its case's free texts."""
        await self.touch(record)
        if case is not None:
            await erase_case_texts(self.session, case.case_id)

    async def by_sources(self, keys: Collection[SourceKey]) -> dict[SourceKey, ChildRecord]:
        """The records registered from these source records, in one query."""
        if not keys:
            return {}
        c = orm.children.c
        rows = await self.session.execute(select(orm.children).where(
            tuple_(c.source_system, c.source_record_id).in_(list(keys))))
        records = [_child_record(row) for row in rows]
        return {(r.child.source_system, r.child.source_record_id): r for r in records}

    async def registered(self, source_system: str, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Child id and row digest of each source record id already registered."""
        c = orm.children.c
        query = select(c.source_record_id, c.child_id, c.source_digest).where(
            c.source_system == source_system, c.source_record_id.in_(ids))
        rows = await self.session.execute(query)
        return {row.source_record_id: (row.child_id, row.source_digest or "") for row in rows}

    async def link_persons(self, records: Sequence[ChildRecord]) -> None:
        """Store the records' person ids in one statement; versions stay."""
        if not records:
            return
        c = orm.children.c
        await self.session.execute(
            update(orm.children).where(c.child_id == bindparam("b_child_id")).values(
                person_id=bindparam("b_person"), person_linked_at=bindparam("b_linked_at")),
            [{"b_child_id": r.child.child_id, "b_person": r.child.person_id,
              "b_linked_at": r.child.person_linked_at.astimezone(dt.UTC) if r.child.person_linked_at else None}
             for r in records])

    async def search(self, search: ChildSearch) -> list[ChildRecord]:
        """Records matching the search within its scope, ordered by child id, at most `limit`."""
        rows = await self.session.execute(_search_query(search))
        return [_child_record(row) for row in rows]

    async def case_of(self, child_id: str) -> Case | None:
        """The child's case with its histories and visits, or None."""
        return (await self.cases_of([child_id])).get(child_id)

    async def cases_of(self, child_ids: Collection[str]) -> dict[str, Case]:
        """The cases of many children with their histories and visits: four queries, however many children."""
        if not child_ids:
            return {}
        rows = list(await self.session.execute(select(orm.cases).where(orm.cases.c.child_id.in_(list(child_ids)))))
        if not rows:
            return {}
        case_ids = [row.case_id for row in rows]
        statuses = await self._rows(orm.case_status_changes, case_ids, "seq")
        classes = await self._rows(orm.case_classification_changes, case_ids, "seq")
        visits = await self._rows(orm.monitoring_visits, case_ids, "visited_on")
        cases = {}
        for row in rows:
            case_id = row.case_id
            case = Case(case_id, row.child_id, [_status_change(r) for r in statuses[case_id]],
                        [_classification_change(r) for r in classes[case_id]],
                        [_visit(r) for r in visits[case_id]], closure_rule=self.closure_rule)
            self._stored[id(case)] = (len(case.status_history), len(case.classification_history), len(case.visits))
            cases[row.child_id] = case
        return cases

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

    async def _rows(self, table: Any, case_ids: list[str], order: str) -> dict[str, list[Any]]:
        query = select(table).where(table.c.case_id.in_(case_ids)).order_by(table.c.case_id, table.c[order])
        by_case: dict[str, list[Any]] = defaultdict(list)
        for row in await self.session.execute(query):
            by_case[row.case_id].append(row)
        return by_case


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

