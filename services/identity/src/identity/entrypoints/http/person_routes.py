"""Person API: a reviewer merges two persons into one, or undoes a merge (audited decisions)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from identity.domain.commands import MergePersons, UnmergePerson
from identity.entrypoints.http import edge
from identity.entrypoints.http.edge import REASON_REQUIRED, DecisionReason, Reviewer
from identity.entrypoints.http.schemas import MergeRequest, MergeResult
from identity.service_layer.handlers.persons import MergeOutcome, merge_persons, unmerge_person

router = APIRouter(prefix="/persons", tags=["persons"])


@router.post("/{person_id}/merge", response_model=MergeResult, summary="Merge a person into another (audited)",
             openapi_extra=REASON_REQUIRED)
async def merge(person_id: str, body: MergeRequest, principal: Reviewer, request: Request, *,
                reason: DecisionReason = None) -> MergeResult:
    """The two persons are one child: `into_person_id` keeps its id, this person's id is retired."""
    command = MergePersons(edge.decider(principal, reason), person_id, body.into_person_id)
    return _result(await edge.run(request, merge_persons, command))


@router.post("/{person_id}/unmerge", response_model=MergeResult, summary="Undo the merge of a person (audited)",
             openapi_extra=REASON_REQUIRED)
async def unmerge(person_id: str, principal: Reviewer, request: Request, *,
                  reason: DecisionReason = None) -> MergeResult:
    """Bring back a person retired by a merge, with the records it had; the two are never merged automatically."""
    command = UnmergePerson(edge.decider(principal, reason), person_id)
    return _result(await edge.run(request, unmerge_person, command))


def _result(outcome: MergeOutcome) -> MergeResult:
    return MergeResult(merge_id=outcome.merge_id, person_id=outcome.person_id,
                       other_person_id=outcome.other_person_id, moved_records=[str(k) for k in outcome.moved])
