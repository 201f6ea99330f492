"""What happened to identity's records and persons, in the domain's words (the wire versions are in
`adapters.contract_mapping`)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from identity.domain.source_records import RecordKey


class LinkReason(enum.StrEnum):
    """Why a record was linked to its person."""

    NEW_PERSON = "new_person"
    AUTOMATIC_MATCH = "automatic_match"
    VERIFIED = "verified"


@dataclass(frozen=True)
class RecordLinked:
    """A source record now belongs to a person."""

    key: RecordKey
    person_id: str
    village_code: str
    reason: LinkReason
    at: dt.datetime


@dataclass(frozen=True)
class ReviewRequested:
    """A record may be one of several persons: a reviewer decides (candidates and scores in the same order)."""

    review_id: str
    key: RecordKey
    person_id: str
    village_code: str
    candidate_person_ids: tuple[str, ...]
    candidate_scores: tuple[float, ...]
    at: dt.datetime


@dataclass(frozen=True)
class PersonsMerged:
    """A reviewer merged the retired person into the surviving one."""

    merge_id: str
    surviving_person_id: str
    retired_person_id: str
    moved: tuple[RecordKey, ...]
    by: str
    at: dt.datetime


@dataclass(frozen=True)
class PersonUnmerged:
    """A reviewer undid a merge: the records moved back to the retired person, in use again."""

    merge_id: str
    person_id: str
    unmerged_from_person_id: str
    moved: tuple[RecordKey, ...]
    by: str
    at: dt.datetime


IdentityEvent = RecordLinked | ReviewRequested | PersonsMerged | PersonUnmerged
