"""A review: a record that may be one of several candidate persons, until a reviewer decides each candidate.

Rules kept here: only an open review is decided; each candidate is decided once; accepting one closes the review,
rejecting closes it once every candidate is rejected; a review asking something that no longer holds is superseded.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace

from identity.domain.errors import Conflict, NotFound
from identity.domain.source_records import Candidate, Contribution, RecordKey

DISTRICT_LENGTH = 5  # "35.09" of "35.09.11.2007"


class ReviewStatus(enum.StrEnum):
    """Where a review stands."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class CandidateDecision(enum.StrEnum):
    """A reviewer's decision about one candidate."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ReviewCandidate:
    """A candidate person with its score, whether a rule forbids the link, why it scored, and the decision."""

    person_id: str
    score: float
    vetoed: bool
    contributions: tuple[Contribution, ...]
    decision: CandidateDecision | None = None


@dataclass
class Review:
    """A review of the record `key`, linked to `person_id` (a person of its own) while it is open."""

    review_id: str
    key: RecordKey
    person_id: str
    village_code: str
    candidates: tuple[ReviewCandidate, ...]
    requested_at: dt.datetime
    status: ReviewStatus = ReviewStatus.OPEN
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None

    @classmethod
    def request(cls, review_id: str, key: RecordKey, person_id: str, *, village_code: str,
                candidates: Sequence[Candidate], at: dt.datetime) -> Review:
        """A new open review of the record against its candidates."""
        return cls(review_id, key, person_id, village_code, tuple(
            ReviewCandidate(c.person_id, c.score, c.vetoed, c.contributions) for c in candidates), at)

    @property
    def district_code(self) -> str:
        """The district of the record's village: reviewers are scoped by it."""
        return self.village_code[:DISTRICT_LENGTH]

    def asks(self, person_id: str, candidate_person_ids: set[str]) -> bool:
        """Whether this review asks exactly this: the record on `person_id` against these candidates."""
        return self.person_id == person_id and {c.person_id for c in self.candidates} == candidate_person_ids

    def candidate_to_decide(self, person_id: str) -> ReviewCandidate:
        """The undecided candidate `person_id` of this open review; Conflict or NotFound otherwise."""
        if self.status is not ReviewStatus.OPEN:
            raise Conflict("review_id", f"the review is {self.status}, no longer open")
        candidate = next((c for c in self.candidates if c.person_id == person_id), None)
        if candidate is None:
            raise NotFound("person_id", "not a candidate of this review")
        if candidate.decision is not None:
            raise Conflict("person_id", f"this candidate was already {candidate.decision}")
        return candidate

    def accept(self, person_id: str, by: str, at: dt.datetime) -> None:
        """The record is this candidate: the review is closed."""
        self._decide(person_id, CandidateDecision.ACCEPTED)
        self._close(ReviewStatus.ACCEPTED, by, at)

    def reject(self, person_id: str, by: str, at: dt.datetime) -> None:
        """The record is not this candidate: closed once every candidate is rejected."""
        self._decide(person_id, CandidateDecision.REJECTED)
        if all(c.decision is not None for c in self.candidates):
            self._close(ReviewStatus.REJECTED, by, at)

    def supersede(self, at: dt.datetime) -> None:
        """What the review asks no longer holds: it is closed without a decision."""
        self.status, self.resolved_at = ReviewStatus.SUPERSEDED, at

    def _decide(self, person_id: str, decision: CandidateDecision) -> None:
        self.candidate_to_decide(person_id)
        self.candidates = tuple(replace(c, decision=decision) if c.person_id == person_id else c
                                for c in self.candidates)

    def _close(self, status: ReviewStatus, by: str, at: dt.datetime) -> None:
        self.status, self.resolved_at, self.resolved_by = status, at, by
