"""Review API: the queue of unsure matches in the caller's districts, each with why it scored, and decisions.

Every read and every decision is audited (who, what, when, why: X-Access-Reason, required for decisions).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from identity.domain.commands import AcceptCandidate, Actor, ListReviews, ReadReview, RejectCandidate
from identity.entrypoints.http import edge
from identity.entrypoints.http.edge import REASON_REQUIRED, AccessReason, DecisionReason, Reviewer
from identity.entrypoints.http.schemas import CandidateChoice, Decided, Review, ReviewPage, ReviewStatus
from identity.service_layer.handlers import reviews

router = APIRouter(prefix="/reviews", tags=["reviews"])


@router.get("", response_model=ReviewPage, summary="Reviews of records in your districts (audited)")
async def list_reviews(
    principal: Reviewer, request: Request, *, reason: AccessReason = None, status: ReviewStatus | None = "open",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> ReviewPage:
    """Open reviews by default, ordered by id; `status` picks others."""
    command = ListReviews(edge.reader(principal, reason), status, cursor, limit + 1)
    found = await edge.run(request, reviews.list_reviews, command)
    items = [edge.summary(review) for review in found[:limit]]
    return ReviewPage(items=items, next_cursor=items[-1].review_id if len(found) > limit else None)


@router.get("/{review_id}", response_model=Review, summary="A review with each candidate's reasons (audited)")
async def read_review(review_id: str, principal: Reviewer, request: Request, *,
                      reason: AccessReason = None) -> Review:
    """The record under review, each candidate person with its records and per-field contributions; outside your
    scope a review does not exist (404)."""
    return await _read(request, edge.reader(principal, reason), review_id)


@router.post("/{review_id}/accept", response_model=Decided, summary="Verified link to a candidate (audited)",
             openapi_extra=REASON_REQUIRED)
async def accept(review_id: str, body: CandidateChoice, principal: Reviewer, request: Request, *,
                 reason: DecisionReason = None) -> Decided:
    """The record is this candidate person: linked there for good, never moved by automatic matching."""
    actor = edge.decider(principal, reason)
    person = await edge.run(request, reviews.accept_candidate, AcceptCandidate(actor, review_id, body.person_id))
    return Decided(review=await _read(request, actor, review_id), person_id=person)


@router.post("/{review_id}/reject", response_model=Decided, summary="Verified non-link to a candidate (audited)",
             openapi_extra=REASON_REQUIRED)
async def reject(review_id: str, body: CandidateChoice, principal: Reviewer, request: Request, *,
                 reason: DecisionReason = None) -> Decided:
    """The record is another child than this candidate: never matched to that person again."""
    actor = edge.decider(principal, reason)
    person = await edge.run(request, reviews.reject_candidate, RejectCandidate(actor, review_id, body.person_id))
    return Decided(review=await _read(request, actor, review_id), person_id=person)


async def _read(request: Request, actor: Actor, review_id: str) -> Review:
    return edge.review_view(await edge.run(request, reviews.read_review, ReadReview(actor, review_id)))
