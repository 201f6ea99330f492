"""Child record and case use cases: small functions over a session; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters import contract_mapping, orm
from registry.adapters.children_repository import ChildRecord, ChildrenRepository, ChildSearch, VersionConflict
from registry.config import RegistrySettings
from registry.domain.case import Case, new_case_id
from registry.domain.case_lifecycle import CaseStatus, Classification, ClosureReason, InvalidTransition
from registry.domain.closure import ClosureRule
from registry.domain.consent import ConsentDecision, ConsentPurpose, GuardianConsent
from registry.domain.errors import RegistryError, UnknownVillage
from registry.domain.identity_numbers import nik_consistency, parse_kk, parse_nik
from registry.domain.model import Child, DatePrecision, Sex, new_child_id
from registry.domain.visits import MonitoringVisit
from registry.service_layer import handlers
from simpul_contracts import Event
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.auth import Principal
from simpul_platform.field_encryption import (
    blind_index,
    decode_key,
    development_blind_index_key,
)
from simpul_platform.outbox import Outbox

IDENTIFYING = frozenset({"full_name", "sex", "birth_date", "birth_date_precision", "nik", "kk_number",
                         "mother_name", "village_code"})
PSEUDONYMOUS = frozenset({"sex", "birth_date", "village_code"})
ESTIMATED = "estimated"
_MOVES = {CaseStatus.ASSESSED: Case.assess, CaseStatus.REMEDIATION_IN_PROGRESS: Case.start_remediation,
          CaseStatus.MONITORING: Case.start_monitoring}


class ChildNotFound(RegistryError):
    """No such child in the caller's scope: the same answer whether it exists elsewhere or not at all."""

    def __init__(self) -> None:
        super().__init__("child_id", "no child with this id in your scope")


class OutsideScope(RegistryError):
    """A village outside the caller's villages or districts."""

    def __init__(self) -> None:
        super().__init__("village_code", "not in your villages or districts")


class StaleVersion(RegistryError):
    """The caller's If-Match names a version the record has moved past."""

    def __init__(self) -> None:
        super().__init__("If-Match", "the record changed since you read it: read it again")


class CaseRequired(RegistryError):
    """A case change on a child without a case."""

    def __init__(self) -> None:
        super().__init__("classification", "the child has no case yet: classify the child first")


@dataclass(frozen=True)
class Registry:
    """What the use cases need besides a session: the outbox, our source system, keys and the closure rule."""

    outbox: Outbox
    source_system: str
    blind_index_key: bytes
    closure_rule: ClosureRule = field(default_factory=ClosureRule)


def configure(settings: RegistrySettings, outbox: Outbox) -> Registry:
    """The use cases' dependencies from settings."""
    index_key = settings.blind_index_key
    return Registry(
        outbox=outbox,
        source_system=settings.source_system,
        blind_index_key=decode_key(index_key.get_secret_value()) if index_key else development_blind_index_key(),
        closure_rule=ClosureRule(settings.closure_visits_required, settings.closure_min_days_apart),
    )


@dataclass(frozen=True)
class Classify:
    """Command: classify a child (opening the case) or reclassify, with a reason."""

    classification: Classification
    reason: str
    at: dt.datetime | None = None


class RegionLookup(Protocol):
    """The region questions a registration asks."""

    async def is_current_village(self, code: str) -> bool:
        """True for a village of the reference data that is not retired."""
        ...

    async def is_known_kecamatan(self, code: str) -> bool:
        """True for a kecamatan of the reference data, retired ones included."""
        ...


@dataclass(frozen=True)
class RegionsInDatabase:
    """Asks the database each time: right for one registration."""

    session: AsyncSession

    async def is_current_village(self, code: str) -> bool:
        """True for a village of the reference data that is not retired."""
        return await handlers.is_current_village(self.session, code)

    async def is_known_kecamatan(self, code: str) -> bool:
        """True for a kecamatan of the reference data, retired ones included."""
        return await handlers.is_known_kecamatan(self.session, code)


@dataclass(frozen=True)
class RegionsInMemory:
    """Current villages and every kecamatan, read once: right for thousands of registrations in a row."""

    villages: frozenset[str]
    kecamatan: frozenset[str]

    @classmethod
    async def load(cls, session: AsyncSession) -> RegionsInMemory:
        """Read the reference data."""
        villages, kecamatan = await handlers.region_codes(session)
        return cls(frozenset(villages), frozenset(kecamatan))

    async def is_current_village(self, code: str) -> bool:
        """True for a village of the reference data that is not retired."""
        return code in self.villages

    async def is_known_kecamatan(self, code: str) -> bool:
        """True for a kecamatan of the reference data, retired ones included."""
        return code in self.kecamatan


@dataclass(frozen=True)
class Registration:
    """A new child, its case when classified, and the events announcing them: ready to store."""

    record: ChildRecord
    case: Case | None
    events: tuple[Event, ...]


async def prepare_registration(registry: Registry, principal: Principal, regions: RegionLookup,
                               details: dict[str, Any], *, source_record_id: str | None,
                               classify: Classify | None) -> Registration:
    """Check a new child's details and build its record, case and events; RegistryError names what is wrong."""
    child_id = new_child_id()
    now = dt.datetime.now(dt.UTC)
    child = Child(child_id, details["full_name"], Sex(details["sex"]), details["village_code"], registry.source_system,
                  source_record_id or child_id, now)
    record = ChildRecord(child, updated_at=now)
    await _apply(regions, registry, principal, record, details)
    case = None
    if classify is not None:
        case = Case.identify(case_id=new_case_id(), child_id=child_id, classification=classify.classification,
                             by=principal.subject, at=classify.at or now, reason=classify.reason,
                             closure_rule=registry.closure_rule)
    events = (contract_mapping.identity_recorded(record), contract_mapping.registered(child, case),
              *(contract_mapping.case_events(child, case) if case else []))
    return Registration(record, case, events)


async def register_child(session: AsyncSession, registry: Registry, principal: Principal, details: dict[str, Any],
                         *, source_record_id: str | None, classify: Classify | None) -> ChildRecord:
    """Store a new child (and case) and queue its events in the same transaction."""
    registration = await prepare_registration(registry, principal, RegionsInDatabase(session), details,
                                              source_record_id=source_record_id, classify=classify)
    await _refuse_duplicate_source(session, registration.record.child)
    repository = ChildrenRepository(session, registry.closure_rule)
    await repository.add(registration.record)
    if registration.case is not None:
        await repository.save_case(registration.case)
    await registry.outbox.add(session, *registration.events)
    return registration.record


async def child_in_scope(repository: ChildrenRepository, principal: Principal, child_id: str) -> ChildRecord:
    """The child when the caller's scope covers its village; ChildNotFound otherwise."""
    record = await repository.get(child_id)
    if record is None or not principal.covers_region(record.child.village_code):
        raise ChildNotFound
    return record


async def update_child(session: AsyncSession, registry: Registry, principal: Principal, child_id: str,
                       *, read_version: int, changes: dict[str, Any]) -> ChildRecord:
    """Change a child's details if nobody changed them since `read_version`; events for what changed."""
    repository = ChildrenRepository(session, registry.closure_rule)
    record = await child_in_scope(repository, principal, child_id)
    if record.version != read_version:
        raise StaleVersion
    before = _identifying(record)
    await _apply(RegionsInDatabase(session), registry, principal, record, changes)
    record.updated_at = dt.datetime.now(dt.UTC)
    try:
        await repository.save(record, read_version)
    except VersionConflict:
        raise StaleVersion from None
    changed = {name for name, value in _identifying(record).items() if before[name] != value}
    case = await repository.case_of(child_id)
    if changed & IDENTIFYING:
        await registry.outbox.add(session, contract_mapping.identity_recorded(record))
    if changed & PSEUDONYMOUS:
        await registry.outbox.add(session, contract_mapping.updated(record.child, case))
    return record


async def classify_child(session: AsyncSession, registry: Registry, principal: Principal, child_id: str,
                         command: Classify) -> Case:
    """Open the child's case with a classification, or record a changed classification on the open case."""
    repository = ChildrenRepository(session, registry.closure_rule)
    record = await child_in_scope(repository, principal, child_id)
    case = await repository.case_of(child_id)
    at = command.at or dt.datetime.now(dt.UTC)
    if case is None:
        case = Case.identify(case_id=new_case_id(), child_id=child_id, classification=command.classification,
                             by=principal.subject, at=at, reason=command.reason, closure_rule=registry.closure_rule)
    else:
        case.reclassify(command.classification, by=principal.subject, at=at, reason=command.reason)
    return await _save_case(session, registry, repository, record, case)


@dataclass(frozen=True)
class ChangeStatus:
    """Command: move a case to a status, with why; closure_reason when closing; at defaults to now."""

    status: CaseStatus
    reason: str
    closure_reason: ClosureReason | None = None
    at: dt.datetime | None = None


async def change_status(session: AsyncSession, registry: Registry, principal: Principal, child_id: str,
                        command: ChangeStatus) -> Case:
    """Move the child's case along its lifecycle, with who, when and why."""
    repository = ChildrenRepository(session, registry.closure_rule)
    record = await child_in_scope(repository, principal, child_id)
    case = await repository.case_of(child_id)
    if case is None:
        raise CaseRequired
    by, at, reason = principal.subject, command.at or dt.datetime.now(dt.UTC), command.reason
    status = command.status
    if status is CaseStatus.CLOSED:
        if command.closure_reason is None:
            raise RegistryError("closure_reason", "is required to close a case")
        case.close(command.closure_reason, by=by, at=at, reason=reason)
    elif case.status is CaseStatus.CLOSED:
        case.reopen(status, by=by, at=at, reason=reason)
    elif status in _MOVES:
        _MOVES[status](case, by=by, at=at, reason=reason)
    else:
        raise InvalidTransition(case.status, status)
    return await _save_case(session, registry, repository, record, case)


async def record_visit(session: AsyncSession, registry: Registry, principal: Principal, child_id: str,
                       visit: MonitoringVisit) -> Case:
    """Record a monitoring visit on the child's open case."""
    if visit.visited_on > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):  # a day's grace for time zones
        raise RegistryError("visited_on", "is in the future")
    repository = ChildrenRepository(session, registry.closure_rule)
    record = await child_in_scope(repository, principal, child_id)
    case = await repository.case_of(child_id)
    if case is None:
        raise CaseRequired
    case.record_visit(visit)
    return await _save_case(session, registry, repository, record, case)


async def record_consent(session: AsyncSession, registry: Registry, principal: Principal, child_id: str,
                         *, purpose: ConsentPurpose, decision: ConsentDecision,
                         decided_on: dt.date) -> GuardianConsent:
    """Record a guardian's decision for one purpose; the event carries the decision now in force."""
    repository = ChildrenRepository(session, registry.closure_rule)
    record = await child_in_scope(repository, principal, child_id)
    consent = await repository.consent_of(child_id)
    entry = consent.record(purpose, decision, decided_on=decided_on, recorded_by=principal.subject,
                           recorded_at=dt.datetime.now(dt.UTC))
    await repository.save_consent(consent)
    await repository.touch(record)
    case = await repository.case_of(child_id)
    await registry.outbox.add(session, contract_mapping.consent_changed(record.child, case, consent, entry))
    return consent


async def attach_person(session: AsyncSession, registry: Registry, event: RecordLinkedV1) -> None:
    """Identity linked one of our records to a person: keep the person id, and tell the child stream's readers."""
    # The record's version (ETag) stays: the link is identity's fact, not an edit a client's change could lose.
    c = orm.children.c
    child_id = (await session.execute(select(c.child_id).where(
        c.source_system == event.source_system, c.source_record_id == event.source_record_id))).scalar_one_or_none()
    repository = ChildrenRepository(session, registry.closure_rule)
    record = await repository.get(child_id) if child_id else None
    if record is None or not record.child.link_to_person(event.person_id):
        return  # not ours (another registry's record), or the link we already hold
    await session.execute(update(orm.children).where(c.child_id == child_id).values(person_id=event.person_id))
    case = await repository.case_of(record.child.child_id)
    await registry.outbox.add(session, contract_mapping.updated(record.child, case))


async def search_children(session: AsyncSession, registry: Registry, search: ChildSearch) -> list[ChildRecord]:
    """Children matching a search, only within its scope."""
    return await ChildrenRepository(session, registry.closure_rule).search(search)


async def _save_case(session: AsyncSession, registry: Registry, repository: ChildrenRepository,
                     record: ChildRecord, case: Case) -> Case:
    await repository.save_case(case)
    await repository.touch(record)
    await registry.outbox.add(session, *contract_mapping.case_events(record.child, case))
    return case


async def _apply(regions: RegionLookup, registry: Registry, principal: Principal, record: ChildRecord,
                 changes: dict[str, Any]) -> None:
    if "village_code" in changes:
        await _move_to(regions, principal, record.child, changes["village_code"])
    _apply_details(record, changes)
    await _check_identity_numbers(regions, registry, record)


async def _move_to(regions: RegionLookup, principal: Principal, child: Child, village_code: str) -> None:
    if not principal.covers_region(village_code):
        raise OutsideScope
    if not await regions.is_current_village(village_code):
        raise UnknownVillage
    child.village_code = village_code


def _apply_details(record: ChildRecord, changes: dict[str, Any]) -> None:
    child = record.child
    for name in ("full_name", "birth_date", "mother_name"):
        if name in changes:
            setattr(child, name, changes[name])
    if "sex" in changes:
        child.sex = Sex(changes["sex"])
    if "birth_date_precision" in changes:
        precision = changes["birth_date_precision"]
        record.birth_date_estimated = precision == ESTIMATED
        # An age-based estimate knows the year at best.
        child.birth_date_precision = DatePrecision.YEAR if precision == ESTIMATED else (
            DatePrecision(precision) if precision else None)
    for name in ("aliases", "guardians", "school", "work", "nik", "kk_number"):
        if name in changes:
            setattr(record, name, changes[name])


async def _check_identity_numbers(regions: RegionLookup, registry: Registry, record: ChildRecord) -> None:
    child = record.child
    record.nik_index, record.identity_warnings = None, []
    if record.nik:
        known = await regions.is_known_kecamatan(_region_prefix(record.nik))
        nik = parse_nik(record.nik, lambda _code: known)
        record.nik, record.nik_index = nik.value, blind_index(nik.value, registry.blind_index_key)
        warnings = nik_consistency(nik, child.sex, child.birth_date, child.birth_date_precision,
                                   as_of=child.registered_at.date())
        record.identity_warnings = [asdict(w) | {"code": w.code.value} for w in warnings]
    if record.kk_number:
        known = await regions.is_known_kecamatan(_region_prefix(record.kk_number))
        record.kk_number = parse_kk(record.kk_number, lambda _code: known).value


def _region_prefix(number: str) -> str:
    digits = number.strip()
    return f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}"


def _identifying(record: ChildRecord) -> dict[str, Any]:
    child = record.child
    return {"full_name": child.full_name, "sex": child.sex, "birth_date": child.birth_date,
            "birth_date_precision": (child.birth_date_precision, record.birth_date_estimated), "nik": record.nik,
            "kk_number": record.kk_number, "mother_name": child.mother_name, "village_code": child.village_code}


async def _refuse_duplicate_source(session: AsyncSession, child: Child) -> None:
    c = orm.children.c
    query = select(c.child_id).where(c.source_system == child.source_system,
                                     c.source_record_id == child.source_record_id)
    if (await session.execute(query)).first() is not None:
        raise RegistryError("source_record_id", "a child with this source record id is already registered")
