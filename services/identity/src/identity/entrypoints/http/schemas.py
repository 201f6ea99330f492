"""HTTP request and response bodies of the review API (never the stored rows or domain objects themselves)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

PersonId = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
ReviewStatus = Literal["open", "accepted", "rejected", "superseded"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Contribution(BaseModel):
    """One field's part in a score: how the two values compared and the weight in bits (positive: evidence for)."""

    field: str
    level: str
    weight: float


class RecordDetails(BaseModel):
    """A source record's identifying details (restricted: shown to reviewers of its village only, audited)."""

    full_name: str
    sex: str
    birth_date: dt.date | None
    birth_date_precision: str | None
    nik: str | None
    kk_number: str | None
    mother_name: str | None


class SourceRecord(BaseModel):
    """A source record; `details` is null outside the caller's scope or before identity held details."""

    source_system: str
    source_record_id: str
    village_code: str
    person_id: str
    verified: bool
    details: RecordDetails | None = None


class CandidateSummary(BaseModel):
    """A person the record may be, and its match probability."""

    person_id: str
    score: float
    decision: Literal["accepted", "rejected"] | None


class Candidate(CandidateSummary):
    """A candidate with why it scored as it did, and the records the person holds now."""

    vetoed: bool
    contributions: list[Contribution]
    records: list[SourceRecord]


class ReviewSummary(BaseModel):
    """A review in the queue."""

    review_id: str
    status: ReviewStatus
    source_system: str
    source_record_id: str
    person_id: str
    village_code: str
    district_code: str
    requested_at: dt.datetime
    candidates: list[CandidateSummary]


class ReviewPage(BaseModel):
    """A page of reviews, ordered by id."""

    items: list[ReviewSummary]
    next_cursor: str | None


class Review(ReviewSummary):
    """A review with the record under review and each candidate's reasons and records."""

    record: SourceRecord | None
    candidates: list[Candidate]  # type: ignore[assignment]
    resolved_at: dt.datetime | None
    resolved_by: str | None


class CandidateChoice(_Closed):
    """The candidate person a decision is about."""

    person_id: PersonId


class Decided(BaseModel):
    """The outcome of a review decision: the review and the person the record is linked to now."""

    review: Review
    person_id: str


class MergeRequest(_Closed):
    """Merge the person in the path into this one, which keeps its id."""

    into_person_id: PersonId


class MergeResult(BaseModel):
    """A merge or its undoing: the person split off or retired, the other person, and the records moved."""

    merge_id: str
    person_id: str
    other_person_id: str
    moved_records: list[str]


class ModelInForce(BaseModel):
    """The match model the service links with now, and the thresholds it applies."""

    name: str
    version: str
    checksum: str
    estimated_from: dict[str, int]
    auto_link_threshold: float
    review_threshold: float
    match_rate: float | None = Field(
        default=None, description="The chance that two of the service's records are one child, counted from those "
        "sharing a child's own NIK; it replaces the model's prior (that of the records the model was estimated "
        "from). Null until enough records share a NIK: the model's prior applies.")
