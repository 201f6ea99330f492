"""Reviews as rows of `reviews` (candidates as JSON) and back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from identity.domain.review import CandidateDecision, Review, ReviewCandidate, ReviewStatus
from identity.domain.source_records import Contribution, RecordKey

Moment = TypeVar("Moment", dt.datetime, None)


def review_row(review: Review) -> dict[str, Any]:
    """The row of a review."""
    return {
        "review_id": review.review_id, "source_system": review.key.source_system,
        "source_record_id": review.key.source_record_id, "person_id": review.person_id,
        "village_code": review.village_code, "district_code": review.district_code, "status": review.status.value,
        "candidates": [_candidate_row(c) for c in review.candidates], "requested_at": review.requested_at,
        "resolved_at": review.resolved_at, "resolved_by": review.resolved_by}


def review_of(row: Mapping[Any, Any]) -> Review:
    """The review of a row."""
    return Review(row["review_id"], RecordKey(row["source_system"], row["source_record_id"]), row["person_id"],
                  row["village_code"], tuple(_candidate(c) for c in row["candidates"]), _utc(row["requested_at"]),
                  ReviewStatus(row["status"]), _utc(row["resolved_at"]), row["resolved_by"])


def _utc(at: Moment) -> Moment:
    # SQLite keeps no zone: the time stored is UTC. PostgreSQL answers with the zone already.
    return at.replace(tzinfo=dt.UTC) if at is not None and at.tzinfo is None else at


def _candidate_row(candidate: ReviewCandidate) -> dict[str, Any]:
    return {"person_id": candidate.person_id, "score": candidate.score, "vetoed": candidate.vetoed,
            "decision": candidate.decision.value if candidate.decision else None, "contributions": [
                {"field": c.field, "level": c.level, "weight": c.weight} for c in candidate.contributions]}


def _candidate(row: Mapping[str, Any]) -> ReviewCandidate:
    return ReviewCandidate(row["person_id"], row["score"], row["vetoed"],
                           tuple(Contribution(c["field"], c["level"], c["weight"]) for c in row["contributions"]),
                           CandidateDecision(row["decision"]) if row["decision"] else None)
