"""What identity is asked to do: one frozen command per use case, with who asks and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from identity.domain.source_records import Details, RecordKey


@dataclass(frozen=True)
class Actor:
    """Who asks, in which role, over which region codes, and why (X-Access-Reason)."""

    subject: str
    role: str
    scope: tuple[str, ...]
    reason: str | None = None

    def covers(self, region_code: str) -> bool:
        """Whether a region code (village, district...) lies inside the actor's scope."""
        return any(region_code == s or region_code.startswith(s + ".") for s in self.scope)


@dataclass(frozen=True)
class RecordSeen:
    """A source system sent a record's identifying details (restricted: never logged), recorded there at
    `recorded_at` (the order of one record's details)."""

    key: RecordKey
    details: Details
    recorded_at: dt.datetime | None = None


@dataclass(frozen=True)
class LinkRecords:
    """Link each record, in order, to its person (an existing one or a new one)."""

    records: tuple[RecordSeen, ...]


@dataclass(frozen=True)
class RecordErased:
    """The source erased a record's child (`reason` a code): identity keeps no details of it from then on."""

    key: RecordKey
    village_code: str
    reason: str
    erased_at: dt.datetime


@dataclass(frozen=True)
class EraseRecords:
    """Erase the identifying details of each record, in order."""

    records: tuple[RecordErased, ...]


@dataclass(frozen=True)
class ListReviews:
    """Reviews of records in the actor's villages or districts, ordered by id, after a cursor."""

    actor: Actor
    status: str | None
    after: str | None
    limit: int


@dataclass(frozen=True)
class ReadReview:
    """One review with the records behind it."""

    actor: Actor
    review_id: str


@dataclass(frozen=True)
class AcceptCandidate:
    """The record under review is this candidate person (a verified link)."""

    actor: Actor
    review_id: str
    person_id: str


@dataclass(frozen=True)
class RejectCandidate:
    """The record under review is another child than this candidate person (a verified non-link)."""

    actor: Actor
    review_id: str
    person_id: str


@dataclass(frozen=True)
class MergePersons:
    """`person_id` and `into_person_id` are one child; `into_person_id` keeps its id."""

    actor: Actor
    person_id: str
    into_person_id: str


@dataclass(frozen=True)
class UnmergePerson:
    """Undo the merge that retired `person_id`."""

    actor: Actor
    person_id: str


Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class EstimateMatchModel:
    """Estimate the match parameters from every record identity holds (`progress` hears each stage)."""

    progress: Progress | None = None


@dataclass(frozen=True)
class RelinkRecords:
    """Re-evaluate the automatic links of these records under the model in force (reviewers' decisions stay)."""

    keys: tuple[RecordKey, ...]
