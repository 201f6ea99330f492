"""What the review endpoints share: callers, the access reason, refusals as problems, views of stored rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from identity.entrypoints.http import schemas
from identity.service_layer.errors import DecisionRefused
from identity.service_layer.linking import Linking
from identity.service_layer.review import Actor, RecordView, ReviewView
from simpul_platform.auth import Principal, Role, require
from simpul_platform.problems import Problem
from simpul_platform.runtime import ServiceRuntime

# District officers (and systems scoped like them) review; cadres and the ministry do not see identity at all.
Reviewer = Annotated[Principal, Depends(require(Role.DISTRICT_OFFICER, Role.SERVICE))]
AccessReason = Annotated[str | None, Header(alias="X-Access-Reason", max_length=500)]
_TITLES = {404: "Not found", 409: "Conflict", 422: "Invalid request"}
T = TypeVar("T")


def runtime_of(request: Request) -> ServiceRuntime:
    """The service runtime."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def linking_of(request: Request) -> Linking:
    """Linking's dependencies (outbox, matcher, keys)."""
    linking: Linking = request.app.state.linking
    return linking


def reader(principal: Principal, reason: str | None) -> Actor:
    """The caller of a read; the reason is optional but audited."""
    return Actor(principal, reason)


def decider(principal: Principal, reason: str | None) -> Actor:
    """The caller of a decision, which must say why (X-Access-Reason)."""
    if not reason or not reason.strip():
        raise Problem(422, "Invalid request", "X-Access-Reason: say why you decide",
                      [{"field": "X-Access-Reason", "reason": "is required for a decision"}])
    return Actor(principal, reason.strip())


async def in_transaction(request: Request, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run a use case in one transaction; its refusals leave as problems (and roll it back)."""
    try:
        async with runtime_of(request).transaction() as session:
            return await work(session)
    except DecisionRefused as error:
        raise problem(error) from None


def problem(error: DecisionRefused) -> Problem:
    """The problem+json of a refusal, naming the field and the reason."""
    return Problem(error.status, _TITLES.get(error.status, "Invalid request"), str(error),
                   [{"field": error.field, "reason": error.reason}])


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


def summary(review: dict[str, Any]) -> schemas.ReviewSummary:
    """A review as the queue shows it."""
    return schemas.ReviewSummary.model_validate(review | {"candidates": [
        {"person_id": c["person_id"], "score": c["score"], "decision": c["decision"]} for c in review["candidates"]]})


def review_view(view: ReviewView) -> schemas.Review:
    """A review with its records and each candidate's reasons."""
    review = view.review
    candidates = [schemas.Candidate(
        person_id=c["person_id"], score=c["score"], decision=c["decision"], vetoed=c["vetoed"],
        contributions=[schemas.Contribution(**part) for part in c["contributions"]],
        records=[record_view(r) for r in view.candidate_records.get(c["person_id"], [])])
        for c in review["candidates"]]
    return schemas.Review.model_validate(review | {
        "candidates": candidates, "record": record_view(view.record) if view.record else None})
