"""What the review endpoints share: callers, the access reason, the unit of work, views of domain objects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request

from identity.domain.commands import Actor
from identity.domain.review import Review, ReviewCandidate
from identity.entrypoints.http import schemas
from identity.service_layer.handlers.reviews import RecordView, ReviewView
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from simpul_platform.auth import Principal, Role, require
from simpul_platform.problems import Problem
from simpul_platform.unit_of_work import execute
from simpul_platform.web import required_header

# District officers (and systems scoped like them) review; cadres and the ministry do not see identity at all.
Reviewer = Annotated[Principal, Depends(require(Role.DISTRICT_OFFICER, Role.SERVICE))]
AccessReason = Annotated[str | None, Header(alias="X-Access-Reason", max_length=500)]
# A decision's reason: documented as required (REASON_REQUIRED), read here so that a missing one names the header.
DecisionReason = Annotated[str | None, Header(alias="X-Access-Reason", max_length=500, include_in_schema=False)]
REASON_REQUIRED = required_header("X-Access-Reason", description="Why you decide (audited)", maxLength=500,
                                  pattern=r"\S")
C = TypeVar("C")
R = TypeVar("R")


async def run(request: Request, handler: Callable[[C, IdentityUnitOfWork], Awaitable[R]], command: C) -> R:
    """Run one handler in a fresh unit of work and commit (refusals roll it back and leave as problems)."""
    uow: IdentityUnitOfWork = request.app.state.wiring.unit_of_work()
    return await execute(uow, handler, command)


def reader(principal: Principal, reason: str | None) -> Actor:
    """The caller of a read; the reason is optional but audited."""
    return Actor(principal.subject, principal.role.value, principal.scope, reason)


def decider(principal: Principal, reason: str | None) -> Actor:
    """The caller of a decision, which must say why (X-Access-Reason)."""
    if not reason or not reason.strip():
        raise Problem(422, "Invalid request", "X-Access-Reason: say why you decide",
                      [{"field": "X-Access-Reason", "reason": "is required for a decision"}])
    return Actor(principal.subject, principal.role.value, principal.scope, reason.strip())


def record_view(view: RecordView) -> schemas.SourceRecord:
    """A record as the API shows it."""
    record = view.record
    details = record.details if view.shown else None
    return schemas.SourceRecord(
        source_system=record.key.source_system, source_record_id=record.key.source_record_id,
        village_code=record.village_code, person_id=record.person_id, verified=record.verified,
        details=schemas.RecordDetails(
            full_name=details.full_name, sex=details.sex, birth_date=details.birth_date,
            birth_date_precision=details.birth_date_precision, nik=details.nik, kk_number=details.kk_number,
            mother_name=details.mother_name) if details else None)


def _summary_fields(review: Review) -> dict[str, object]:
    return {"review_id": review.review_id, "status": review.status.value,
            "source_system": review.key.source_system, "source_record_id": review.key.source_record_id,
            "person_id": review.person_id, "village_code": review.village_code,
            "district_code": review.district_code, "requested_at": review.requested_at}


def _decision(candidate: ReviewCandidate) -> str | None:
    return candidate.decision.value if candidate.decision else None


def summary(review: Review) -> schemas.ReviewSummary:
    """A review as the queue shows it."""
    return schemas.ReviewSummary.model_validate(_summary_fields(review) | {"candidates": [
        {"person_id": c.person_id, "score": c.score, "decision": _decision(c)} for c in review.candidates]})


def review_view(view: ReviewView) -> schemas.Review:
    """A review with its records and each candidate's reasons."""
    review = view.review
    candidates = [schemas.Candidate.model_validate({
        "person_id": c.person_id, "score": c.score, "decision": _decision(c), "vetoed": c.vetoed,
        "contributions": [schemas.Contribution(field=p.field, level=p.level, weight=p.weight)
                          for p in c.contributions],
        "records": [record_view(r) for r in view.candidate_records.get(c.person_id, [])]})
        for c in review.candidates]
    return schemas.Review.model_validate(_summary_fields(review) | {
        "candidates": candidates, "record": record_view(view.record) if view.record else None,
        "resolved_at": review.resolved_at, "resolved_by": review.resolved_by})
