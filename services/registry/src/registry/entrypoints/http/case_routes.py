"""Registry HTTP routes: a child's case (classification, status), monitoring visits and guardian consent."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from registry.domain.commands import (
    ChangeStatus,
    Classify,
    ClassifyChild,
    ReadCase,
    ReadConsent,
    RecordConsent,
    RecordVisit,
)
from registry.domain.errors import NoCase
from registry.domain.visits import MonitoringVisit, Schooling, new_visit_id
from registry.entrypoints.http import edge
from registry.entrypoints.http.edge import AccessReason, ChildId, FieldStaff, IdempotencyKey
from registry.entrypoints.http.schemas import (
    CaseHistoryRead,
    CaseRead,
    ClassificationChangeRead,
    ClassificationIn,
    ConsentCreate,
    ConsentRead,
    StatusChangeIn,
    StatusChangeRead,
    VisitCreate,
    VisitRead,
)
from registry.service_layer.handlers import cases
from registry.service_layer.handlers.cases import CaseChanged
from registry.service_layer.idempotency import then_read
from simpul_platform.auth import Principal

router = APIRouter(prefix="/children/{child_id}", tags=["cases"])


@router.post("/classification", response_model=CaseRead, summary="Classify a child (opens the case)")
async def classify(child_id: ChildId, body: ClassificationIn, principal: FieldStaff, request: Request,
                   response: Response) -> CaseRead:
    """Open the child's case with a classification, or change the classification of the open case."""
    command = ClassifyChild(principal, child_id, Classify(body.classification, body.reason, body.at))
    return _changed(await edge.run(request, cases.classify_child, command), response)


@router.post("/status", response_model=CaseRead, summary="Move the case along its lifecycle")
async def change_status(child_id: ChildId, body: StatusChangeIn, principal: FieldStaff, request: Request,
                        response: Response) -> CaseRead:
    """Assess, start remediation or monitoring, close (with a closure reason) or reopen; 409 names the rule."""
    command = ChangeStatus(principal, child_id, body.status, body.reason, body.closure_reason, body.at)
    return _changed(await edge.run(request, cases.change_status, command), response)


@router.get("/case/history", response_model=CaseHistoryRead, summary="The case's status and classification "
            "history (audited)")
async def case_history(child_id: ChildId, principal: FieldStaff, request: Request,
                       reason: AccessReason = None) -> CaseHistoryRead:
    """Every status change and classification of the child's case with who, when and why; 404 without a case."""
    case = await edge.run(request, cases.read_case, ReadCase(principal, child_id, "read_case_history", reason))
    if case is None:
        raise NoCase
    return CaseHistoryRead(
        case_id=case.case_id,
        statuses=[StatusChangeRead(status=c.status, previous=c.previous, closure_reason=c.closure_reason, by=c.by,
                                   at=c.at, reason=c.reason) for c in case.status_history],
        classifications=[ClassificationChangeRead(classification=c.classification, previous=c.previous, by=c.by,
                                                  at=c.at, reason=c.reason) for c in case.classification_history])


@router.post("/visits", status_code=201, response_model=VisitRead, summary="Record a monitoring visit")
async def record_visit(child_id: ChildId, body: VisitCreate, principal: FieldStaff, request: Request,
                       idempotency_key: IdempotencyKey = None) -> Response:
    """Record a visit on the child's open case; a retry with the same key and body records it once and gets the
    first answer again, the same key with another body is a 422."""
    visit = _visit(new_visit_id(), principal.subject, body)
    key = edge.idempotency(principal, idempotency_key, f"/children/{child_id}/visits", body)
    reading = ReadCase(principal, child_id, "read_visits", None)
    handler = then_read(cases.record_visit, cases.read_case, lambda _command: reading)
    outcome = await edge.create_once(
        request, handler, RecordVisit(principal, child_id, visit), key,
        lambda case: next(_visit_view(v) for v in (case.visits if case else ()) if v.visit_id == visit.visit_id),
        on_replay=lambda _answer: edge.run(request, cases.read_case, reading))
    return edge.respond(outcome)


@router.get("/visits", response_model=list[VisitRead], summary="A child's monitoring visits (audited)")
async def list_visits(child_id: ChildId, principal: FieldStaff, request: Request,
                      reason: AccessReason = None) -> list[VisitRead]:
    """Every visit on the child's case, oldest first."""
    return await _visits(request, principal, child_id, reason)


@router.post("/consent", status_code=201, response_model=ConsentRead, summary="Record a guardian's decision")
async def record_consent(child_id: ChildId, body: ConsentCreate, principal: FieldStaff, request: Request,
                         idempotency_key: IdempotencyKey = None) -> Response:
    """Record a decision for one purpose; withdrawing needs consent given before. A retry with the same key and body
    records it once and gets the first answer again, the same key with another body is a 422."""
    key = edge.idempotency(principal, idempotency_key, f"/children/{child_id}/consent", body)
    command = RecordConsent(principal, child_id, body.purpose, body.decision, body.decided_on)
    reading = ReadConsent(principal, child_id, None)
    handler = then_read(cases.record_consent, cases.read_consent, lambda _command: reading)
    outcome = await edge.create_once(request, handler, command, key, edge.consent_view,
                                     on_replay=lambda _answer: edge.run(request, cases.read_consent, reading))
    return edge.respond(outcome)


@router.get("/consent", response_model=ConsentRead, summary="A child's guardian consent (audited)")
async def read_consent(child_id: ChildId, principal: FieldStaff, request: Request,
                       reason: AccessReason = None) -> ConsentRead:
    """The decision in force per purpose and every decision recorded."""
    return edge.consent_view(await edge.run(request, cases.read_consent, ReadConsent(principal, child_id, reason)))


def _changed(changed: CaseChanged, response: Response) -> CaseRead:
    response.headers["ETag"] = edge.etag(changed.version)
    view = edge.case_view(changed.case)
    assert view is not None
    return view


async def _visits(request: Request, principal: Principal, child_id: str, reason: str | None) -> list[VisitRead]:
    case = await edge.run(request, cases.read_case, ReadCase(principal, child_id, "read_visits", reason))
    return [_visit_view(visit) for visit in sorted(case.visits, key=lambda v: v.visited_on)] if case else []


def _visit(visit_id: str, visitor: str, body: VisitCreate) -> MonitoringVisit:
    schooling = Schooling(body.school_status, body.school_grade, body.attends_school_regularly)
    return MonitoringVisit(visit_id, body.visited_on, visitor, body.child_working, schooling,
                           frozenset(body.sectors), body.work_activities, body.hours_per_week,
                           frozenset(body.hazards), body.notes)


def _visit_view(visit: MonitoringVisit) -> VisitRead:
    return VisitRead(
        visit_id=visit.visit_id, visitor=visit.visitor, visited_on=visit.visited_on,
        child_working=visit.child_working, school_status=visit.schooling.status,
        school_grade=visit.schooling.grade, attends_school_regularly=visit.schooling.attends_regularly,
        sectors=sorted(visit.sectors), work_activities=visit.work_activities,
        hours_per_week=visit.hours_per_week, hazards=sorted(visit.hazards), notes=visit.notes)
