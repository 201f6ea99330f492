"""Events the identity service publishes, all pseudonymous: ids, scores, village codes, codes and timestamps.

- `identity.link.v1`, keyed by source record: `record linked` (which person a record belongs to) and `review
  requested` (a record that may be one of several persons).
- `identity.person.v1`, keyed by person: `persons merged` and `person unmerged`, a reviewer's decisions.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints, model_validator

from simpul_contracts.event import DataClass, Event
from simpul_contracts.events.common import ActorId, Id, VillageCode


class LinkReason(enum.StrEnum):
    """Why a record was linked to its person."""

    NEW_PERSON = "new_person"
    AUTOMATIC_MATCH = "automatic_match"
    VERIFIED = "verified"


class RecordLinkedV1(Event):
    """A source record now belongs to a person (pseudonymous: no identifying fields)."""

    event_type: ClassVar[str] = "simpul.identity.record-linked.v1"
    topic: ClassVar[str] = "identity.link.v1"
    source: ClassVar[str] = "simpul/identity"
    data_class: ClassVar[DataClass] = DataClass.PSEUDONYMOUS

    source_system: Id
    source_record_id: Id
    person_id: Id = Field(description="Opaque, stable person id")
    village_code: VillageCode | None = None
    reason: LinkReason
    linked_at: dt.datetime

    @property
    def key(self) -> str:
        """Keyed by source record, so one record's link history stays ordered."""
        return f"{self.source_system}:{self.source_record_id}"


RecordRef = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}:[A-Za-z0-9._:-]{1,64}$"),
    Field(description="A source record as `source_system:source_record_id`", examples=["simpul-registry:chd_1"]),
]
Score = Annotated[float, Field(ge=0, le=1, description="Match probability of the best record pair")]


class ReviewRequestedV1(Event):
    """A source record may be one of several persons and a reviewer must decide (pseudonymous: ids and scores).

    Until the review is decided the record stays linked to `person_id` (a person of its own, never a candidate:
    an unsure match is not a link). `candidate_person_ids[i]` scored `candidate_scores[i]`; why, field by field,
    is shown by identity's review API, never on the wire."""

    event_type: ClassVar[str] = "simpul.identity.review-requested.v1"
    topic: ClassVar[str] = "identity.link.v1"
    source: ClassVar[str] = "simpul/identity"
    data_class: ClassVar[DataClass] = DataClass.PSEUDONYMOUS

    review_id: Id
    source_system: Id
    source_record_id: Id
    person_id: Id = Field(description="The person the record is linked to while the review is open")
    village_code: VillageCode | None = None
    candidate_person_ids: list[Id] = Field(min_length=1)
    candidate_scores: list[Score] = Field(min_length=1, description="One per candidate, in the same order")
    requested_at: dt.datetime

    @model_validator(mode="after")
    def _one_score_per_candidate(self) -> ReviewRequestedV1:
        if len(self.candidate_scores) != len(self.candidate_person_ids):
            raise ValueError("candidate_scores: one score per candidate person id")
        return self

    @property
    def key(self) -> str:
        """Keyed by source record, beside the record's links."""
        return f"{self.source_system}:{self.source_record_id}"


class PersonsMergedV1(Event):
    """A reviewer decided two persons are one child: the retired person's records now belong to the surviving
    person, whose id stays; the retired id is never reused (pseudonymous). Each moved record is also announced
    by a `record linked` on identity.link.v1."""

    event_type: ClassVar[str] = "simpul.identity.persons-merged.v1"
    topic: ClassVar[str] = "identity.person.v1"
    source: ClassVar[str] = "simpul/identity"
    data_class: ClassVar[DataClass] = DataClass.PSEUDONYMOUS

    merge_id: Id
    surviving_person_id: Id
    retired_person_id: Id
    moved_records: list[RecordRef]
    merged_by: ActorId
    merged_at: dt.datetime

    @property
    def key(self) -> str:
        """Keyed by the surviving person, so a merge and its undoing stay in order."""
        return self.surviving_person_id


class PersonUnmergedV1(Event):
    """A reviewer undid a merge: the retired person id is in use again and the records it held before the merge
    moved back to it from `unmerged_from_person_id` (pseudonymous). Each moved record is also announced by a
    `record linked` on identity.link.v1."""

    event_type: ClassVar[str] = "simpul.identity.person-unmerged.v1"
    topic: ClassVar[str] = "identity.person.v1"
    source: ClassVar[str] = "simpul/identity"
    data_class: ClassVar[DataClass] = DataClass.PSEUDONYMOUS

    merge_id: Id = Field(description="The merge undone")
    person_id: Id = Field(description="The person split off again (the merge's retired person)")
    unmerged_from_person_id: Id = Field(description="The merge's surviving person")
    moved_records: list[RecordRef]
    unmerged_by: ActorId
    unmerged_at: dt.datetime

    @property
    def key(self) -> str:
        """Keyed by the person split from, like the merge it undoes."""
        return self.unmerged_from_person_id
