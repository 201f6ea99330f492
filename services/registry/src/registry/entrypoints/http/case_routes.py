"""Registry HTTP routes: a child's case (classification, status), monitoring visits and guardian consent."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from registry.adapters.children_repository import ChildrenRepository
from registry.domain.case import Case
from registry.domain.errors import RegistryError
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
from registry.service_layer import children, handlers
from simpul_platform.problems import Problem

router = APIRouter(prefix="/children/{child_id}", tags=["cases"])


@router.post("/classification", response_model=CaseRead, summary="Classify a child (opens the case)")
async def classify(child_id: ChildId, body: ClassificationIn, principal: FieldStaff, request: Request,
                   response: Response) -> CaseRead:
    """Open the child's case with a classification, or change the classification of the open case."""
    command = children.Classify(body.classification, body.reason, body.at)
    return await _change_case(request, response, lambda session, registry: children.classify_child(
        session, registry, principal, child_id, command))


@router.post("/status", response_model=CaseRead, summary="Move the case along its lifecycle")
async def change_status(child_id: ChildId, body: StatusChangeIn, principal: FieldStaff, request: Request,
                        response: Response) -> CaseRead:
    """Assess, start remediation or monitoring, close (with a closure reason) or reopen; 409 names the rule."""
    return await _change_case(request, response, lambda session, registry: children.change_status(
        session, registry, principal, child_id,
        children.ChangeStatus(body.status, body.reason, body.closure_reason, body.at)))


@router.get("/case/history", response_model=CaseHistoryRead, summary="The case's status and classification "
            "history (audited)")
async def case_history(child_id: ChildId, principal: FieldStaff, request: Request,
                       reason: AccessReason = None) -> CaseHistoryRead:
    """Every status change and classification of the child's case with who, when and why; 404 without a case."""
    case = await _audited_case(request, principal, child_id, "read_case_history", reason)
    if case is None:
        raise Problem(404, "No case", "child_id: the child has no case yet",
                      [{"field": "child_id", "reason": "the child has no case yet"}])
    return CaseHistoryRead(
        case_id=case.case_id,
        statuses=[StatusChangeRead(status=c.status, previous=c.previous, closure_reason=c.closure_reason, by=c.by,
                                   at=c.at, reason=c.reason) for c in case.status_history],
        classifications=[ClassificationChangeRead(classification=c.classification, previous=c.previous, by=c.by,
                                                  at=c.at, reason=c.reason) for c in case.classification_history])


@router.post("/visits", status_code=201, response_model=VisitRead, summary="Record a monitoring visit")
async def record_visit(child_id: ChildId, body: VisitCreate, principal: FieldStaff, request: Request,
                       idempotency_key: IdempotencyKey = None) -> VisitRead:
    """Record a visit on the child's open case; a retry with the same key records it once."""
    runtime, registry = edge.runtime_of(request), edge.registry_of(request)

    async def create(session: Any) -> str:
        visit = _visit(new_visit_id(), principal.subject, body)
        await children.record_visit(session, registry, principal, child_id, visit)
        return visit.visit_id

    digest = handlers.fingerprint(f"POST /children/{child_id}/visits", body.model_dump(mode="json"))
    visit_id = await edge.create_once(runtime, principal, idempotency_key, digest, create)
    visits = await _visits(request, principal, child_id, None)
    return next(visit for visit in visits if visit.visit_id == visit_id)


@router.get("/visits", response_model=list[VisitRead], summary="A child's monitoring visits (audited)")
async def list_visits(child_id: ChildId, principal: FieldStaff, request: Request,
                      reason: AccessReason = None) -> list[VisitRead]:
    """Every visit on the child's case, oldest first."""
    return await _visits(request, principal, child_id, reason)


@router.post("/consent", status_code=201, response_model=ConsentRead, summary="Record a guardian's decision")
async def record_consent(child_id: ChildId, body: ConsentCreate, principal: FieldStaff, request: Request,
                         idempotency_key: IdempotencyKey = None) -> ConsentRead:
    """Record a decision for one purpose; withdrawing needs consent given before."""
    runtime, registry = edge.runtime_of(request), edge.registry_of(request)

    async def create(session: Any) -> str:
        await children.record_consent(session, registry, principal, child_id, purpose=body.purpose,
                                      decision=body.decision, decided_on=body.decided_on)
        return child_id

    digest = handlers.fingerprint(f"POST /children/{child_id}/consent", body.model_dump(mode="json"))
    await edge.create_once(runtime, principal, idempotency_key, digest, create)
    return await read_consent(child_id, principal, request, None)


@router.get("/consent", response_model=ConsentRead, summary="A child's guardian consent (audited)")
async def read_consent(child_id: ChildId, principal: FieldStaff, request: Request,
                       reason: AccessReason = None) -> ConsentRead:
    """The decision in force per purpose and every decision recorded."""
    runtime, registry = edge.runtime_of(request), edge.registry_of(request)
    async with runtime.transaction() as session:
        repository = ChildrenRepository(session, registry.closure_rule)
        await _in_scope(repository, principal, child_id)
        await handlers.record_access(session, principal, "read_consent", child_id, reason)
        return edge.consent_view(await repository.consent_of(child_id))


async def _change_case(request: Request, response: Response, change: Any) -> CaseRead:
    runtime, registry = edge.runtime_of(request), edge.registry_of(request)
    try:
        async with runtime.transaction() as session:
            case: Case = await change(session, registry)
            record = await ChildrenRepository(session, registry.closure_rule).get(case.child_id)
    except RegistryError as error:
        raise edge.problem(error) from None
    if record is not None:
        response.headers["ETag"] = edge.etag(record.version)
    view = edge.case_view(case)
    assert view is not None
    return view


async def _visits(request: Request, principal: Any, child_id: str, reason: str | None) -> list[VisitRead]:
    case = await _audited_case(request, principal, child_id, "read_visits", reason)
    return [_visit_view(visit) for visit in sorted(case.visits, key=lambda v: v.visited_on)] if case else []


async def _audited_case(request: Request, principal: Any, child_id: str, action: str,
                        reason: str | None) -> Case | None:
    """The child's case (None without one), once the caller's scope is checked and the read audited."""
    runtime, registry = edge.runtime_of(request), edge.registry_of(request)
    async with runtime.transaction() as session:
        repository = ChildrenRepository(session, registry.closure_rule)
        await _in_scope(repository, principal, child_id)
        await handlers.record_access(session, principal, action, child_id, reason)
        return await repository.case_of(child_id)


async def _in_scope(repository: ChildrenRepository, principal: Any, child_id: str) -> None:
    try:
        await children.child_in_scope(repository, principal, child_id)
    except RegistryError as error:
        raise edge.problem(error) from None


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
