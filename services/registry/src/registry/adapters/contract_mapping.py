"""Domain <-> wire, both ways: the only place registry objects become contract events and incoming events
become commands."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from registry.domain.case import Case
from registry.domain.case_events import CaseIdentified, CaseStatusChanged, ChildReclassified, MonitoringVisitRecorded
from registry.domain.commands import AttachPersons, PersonLink
from registry.domain.consent import ConsentDecision, ConsentPurpose, ConsentRecord, GuardianConsent
from registry.domain.erasure import ErasureReason
from registry.domain.model import Child
from registry.domain.record import ChildRecord
from registry.domain.visits import MonitoringVisit
from simpul_contracts import Event
from simpul_contracts.events import (
    CaseStatusChangedV1,
    ChildClassifiedV1,
    ChildIdentityRecordedV1,
    ChildReferralDetailsRecordedV1,
    ChildReferralDetailsWithdrawnV1,
    ChildRegisteredV1,
    ChildUpdatedV1,
    ConsentChangedV1,
    MonitoringVisitRecordedV1,
    RecordLinkedV1,
)
from simpul_contracts.events import registry as wire
from simpul_contracts.events.common import DatePrecision, Sex


def identity_recorded(record: ChildRecord) -> ChildIdentityRecordedV1:
    """The restricted event identity matches on."""
    child = record.child
    return ChildIdentityRecordedV1(
        child_id=child.child_id,
        source_system=child.source_system,
        source_record_id=child.source_record_id,
        full_name=child.full_name,
        sex=Sex(child.sex.value),
        birth_date=child.birth_date,
        birth_date_precision=DatePrecision(child.birth_date_precision.value) if child.birth_date_precision else None,
        nik=record.nik,
        kk_number=record.kk_number,
        mother_name=child.mother_name,
        village_code=child.village_code,
        recorded_at=dt.datetime.now(dt.UTC),
    )


def child_state(child: Child, case: Case | None) -> dict[str, Any]:
    """The pseudonymous state every event on registry.child.v1 carries: no names, NIK or exact dates."""
    return {
        "child_id": child.child_id,
        "person_id": child.person_id,
        "sex": Sex(child.sex.value),
        "birth_year": child.birth_date.year if child.birth_date else None,
        "village_code": child.village_code,
        "case_id": case.case_id if case else None,
        "classification": wire.Classification(case.classification.value) if case else None,
        "status": wire.CaseStatus(case.status.value) if case else None,
    }


def registered(child: Child, case: Case | None) -> ChildRegisteredV1:
    """A child was registered."""
    return ChildRegisteredV1(**child_state(child, case), registered_at=child.registered_at)


def updated(child: Child, case: Case | None) -> ChildUpdatedV1:
    """A child's pseudonymous details changed."""
    return ChildUpdatedV1(**child_state(child, case), updated_at=dt.datetime.now(dt.UTC))


def erased(child: Child, case: Case | None, reason: ErasureReason, at: dt.datetime) -> wire.ChildErasedV1:
    """The child's identifying data was erased: every service erases what it holds of the child."""
    return wire.ChildErasedV1(**child_state(child, case), source_system=child.source_system,
                              source_record_id=child.source_record_id, reason=wire.ErasureReason(reason.value),
                              erased_at=at)


def case_events(child: Child, case: Case) -> list[Event]:
    """Wire events for the events the case recorded, in order; drains the case's list."""
    events: list[Event] = []
    state = child_state(child, case)
    for event in case.events:
        if isinstance(event, CaseIdentified):
            events.append(ChildClassifiedV1(**state, previous=None, reason=wire.ClassificationReason.IDENTIFIED,
                                            classified_at=event.at, classified_by=event.by))
            events.append(CaseStatusChangedV1(**state, previous=None, closure_reason=None, changed_at=event.at,
                                              changed_by=event.by))
        elif isinstance(event, ChildReclassified):
            events.append(ChildClassifiedV1(**state, previous=wire.Classification(event.previous.value),
                                            reason=wire.ClassificationReason.RECLASSIFIED,
                                            classified_at=event.at, classified_by=event.by))
        elif isinstance(event, CaseStatusChanged):
            events.append(CaseStatusChangedV1(
                **state, previous=wire.CaseStatus(event.previous.value), changed_at=event.at, changed_by=event.by,
                closure_reason=wire.ClosureReason(event.closure_reason.value) if event.closure_reason else None))
        elif isinstance(event, MonitoringVisitRecorded):
            visit = next(v for v in case.visits if v.visit_id == event.visit_id)
            events.append(_visit_recorded(state, visit))
        # CaseEligibleForClosure stays inside the registry: a person decides, and that decision is published.
    case.events.clear()
    return events


def _visit_recorded(state: dict[str, Any], visit: MonitoringVisit) -> MonitoringVisitRecordedV1:
    return MonitoringVisitRecordedV1(
        **state, visit_id=visit.visit_id, visited_on=visit.visited_on, visited_by=visit.visitor,
        child_working=visit.child_working, sectors=tuple(wire.WorkSector(s.value) for s in sorted(visit.sectors)),
        hazards=tuple(wire.Hazard(h.value) for h in sorted(visit.hazards)), hours_per_week=visit.hours_per_week,
        school_status=wire.SchoolStatus(visit.schooling.status.value), school_grade=visit.schooling.grade,
        attends_school_regularly=visit.schooling.attends_regularly)


def consent_changed(child: Child, case: Case | None, consent: GuardianConsent,
                    record: ConsentRecord) -> ConsentChangedV1:
    """A guardian's decision was recorded; carries the decision now in force for the purpose."""
    in_force = consent.decision(ConsentPurpose(record.purpose))
    assert in_force is not None  # the record just added is one of the purpose's decisions
    return ConsentChangedV1(
        **child_state(child, case), purpose=wire.ConsentPurpose(record.purpose.value),
        decision=wire.ConsentDecision(record.decision.value), decided_on=record.decided_on,
        decision_in_force=wire.ConsentDecision(in_force.value), recorded_at=record.recorded_at,
        recorded_by=record.recorded_by)


def referral_details(record: ChildRecord, consent: GuardianConsent, at: dt.datetime) -> ChildReferralDetailsRecordedV1:
    """The minimal details a provider needs (restricted, for referral only): no NIK, KK or mother's name."""
    child = record.child
    given = [r for r in consent.history(ConsentPurpose.REFERRAL) if r.decision is ConsentDecision.GIVEN]
    return ChildReferralDetailsRecordedV1(
        child_id=child.child_id, full_name=child.full_name, sex=Sex(child.sex.value), birth_date=child.birth_date,
        birth_date_precision=DatePrecision(child.birth_date_precision.value) if child.birth_date_precision else None,
        village_code=child.village_code,
        guardians=tuple(wire.GuardianContact(name=g.name, relationship=g.relationship, phone=g.phone)
                        for g in record.guardians),
        consent_given_on=given[-1].decided_on, recorded_at=at)


WITHDRAWAL_REASONS = {ConsentDecision.WITHDRAWN: wire.DetailsWithdrawalReason.CONSENT_WITHDRAWN,
               ConsentDecision.REFUSED: wire.DetailsWithdrawalReason.CONSENT_REFUSED}


def referral_details_withdrawn(child_id: str, decision: ConsentDecision,
                               at: dt.datetime) -> ChildReferralDetailsWithdrawnV1:
    """Referral consent ended: referral forgets the child's minimal details."""
    return ChildReferralDetailsWithdrawnV1(child_id=child_id, reason=WITHDRAWAL_REASONS[decision], recorded_at=at)


def attach_persons(links: Iterable[RecordLinkedV1]) -> AttachPersons:
    """Identity's link events, in order, as the command keeping their person ids."""
    return AttachPersons(tuple(PersonLink(link.source_system, link.source_record_id, link.person_id, link.linked_at)
                               for link in links))
