"""Case and consent use cases: classify, move the status, record visits and guardians' decisions, read them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from registry.adapters import contract_mapping
from registry.domain.case import Case, new_case_id
from registry.domain.case_lifecycle import CaseStatus, InvalidTransition
from registry.domain.commands import (
    ChangeStatus,
    ClassifyChild,
    ReadCase,
    ReadConsent,
    RecordConsent,
    RecordVisit,
)
from registry.domain.consent import ConsentPurpose, GuardianConsent
from registry.domain.errors import CaseRequired, RegistryError
from registry.domain.record import ChildRecord
from registry.service_layer import referral_details
from registry.service_layer.handlers.children import access
from registry.service_layer.registration import child_in_scope, child_to_change
from registry.service_layer.unit_of_work import RegistryUnitOfWork
from simpul_platform.callers import Caller

_MOVES = {CaseStatus.ASSESSED: Case.assess, CaseStatus.REMEDIATION_IN_PROGRESS: Case.start_remediation,
          CaseStatus.MONITORING: Case.start_monitoring}
GRACE = dt.timedelta(days=1)  # for the time zones between a field device and UTC


@dataclass(frozen=True)
class CaseChanged:
    """The case as it stands after a change, and the child record's new version (its ETag)."""

    case: Case
    version: int


async def classify_child(command: ClassifyChild, uow: RegistryUnitOfWork) -> CaseChanged:
    """Open the child's case with a classification, or record a changed classification on the open case."""
    record = await child_to_change(uow.children, command.by, command.child_id)
    case = await uow.children.case_of(command.child_id)
    classify, by = command.classify, command.by.subject
    at = classify.at or dt.datetime.now(dt.UTC)
    if case is None:
        case = Case.identify(case_id=new_case_id(), child_id=command.child_id,
                             classification=classify.classification, by=by, at=at, reason=classify.reason,
                             closure_rule=uow.rules.closure_rule)
    else:
        case.reclassify(classify.classification, by=by, at=at, reason=classify.reason)
    return await _save_case(uow, record, case)


async def change_status(command: ChangeStatus, uow: RegistryUnitOfWork) -> CaseChanged:
    """Move the child's case along its lifecycle, with who, when and why."""
    record, case = await _open_case(uow, command.by, command.child_id)
    by, at, reason = command.by.subject, command.at or dt.datetime.now(dt.UTC), command.reason
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
    return await _save_case(uow, record, case)


async def record_visit(command: RecordVisit, uow: RegistryUnitOfWork) -> CaseChanged:
    """Record a monitoring visit on the child's open case."""
    if command.visit.visited_on > dt.datetime.now(dt.UTC).date() + GRACE:
        raise RegistryError("visited_on", "is in the future")
    record, case = await _open_case(uow, command.by, command.child_id)
    case.record_visit(command.visit)
    return await _save_case(uow, record, case)


async def record_consent(command: RecordConsent, uow: RegistryUnitOfWork) -> GuardianConsent:
    """Record a guardian's decision for one purpose; the event carries the decision now in force."""
    record = await child_to_change(uow.children, command.by, command.child_id)
    consent = await uow.children.consent_of(command.child_id)
    held_before = consent.may_refer()
    entry = consent.record(command.purpose, command.decision, decided_on=command.decided_on,
                           recorded_by=command.by.subject, recorded_at=dt.datetime.now(dt.UTC))
    await uow.children.save_consent(consent)
    await uow.children.touch(record)
    case = await uow.children.case_of(command.child_id)
    if command.purpose is ConsentPurpose.REFERRAL:
        uow.publish(*referral_details.on_consent(record, consent, held_before, entry.recorded_at))
    uow.publish(contract_mapping.consent_changed(record.child, case, consent, entry))
    return consent


async def read_case(command: ReadCase, uow: RegistryUnitOfWork) -> Case | None:
    """The child's case (None without one), once the caller's scope is checked; the read is audited."""
    await child_in_scope(uow.children, command.by, command.child_id)
    uow.audit(access(command.by, command.action, [command.child_id], command.reason))
    return await uow.children.case_of(command.child_id)


async def read_consent(command: ReadConsent, uow: RegistryUnitOfWork) -> GuardianConsent:
    """A child's guardian consent; the read is audited."""
    await child_in_scope(uow.children, command.by, command.child_id)
    uow.audit(access(command.by, "read_consent", [command.child_id], command.reason))
    return await uow.children.consent_of(command.child_id)


async def _open_case(uow: RegistryUnitOfWork, by: Caller, child_id: str) -> tuple[ChildRecord, Case]:
    record = await child_to_change(uow.children, by, child_id)
    case = await uow.children.case_of(child_id)
    if case is None:
        raise CaseRequired
    return record, case


async def _save_case(uow: RegistryUnitOfWork, record: ChildRecord, case: Case) -> CaseChanged:
    await uow.children.save_case(case)
    await uow.children.touch(record)
    uow.publish(*contract_mapping.case_events(record.child, case))
    return CaseChanged(case, record.version)
