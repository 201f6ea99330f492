"""Reviewers' decisions, kept for good: who decided what about which record or person, when and why."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from identity.domain.commands import Actor
from identity.domain.source_records import RecordKey


class DecisionKind(enum.StrEnum):
    """What a reviewer decided."""

    VERIFIED_LINK = "verified_link"
    VERIFIED_NON_LINK = "verified_non_link"
    MERGE = "merge"
    UNMERGE = "unmerge"


@dataclass(frozen=True)
class Decision:
    """A decision as stored."""

    kind: DecisionKind
    person_id: str
    decided_by: str
    role: str
    at: dt.datetime
    reason: str | None
    record: RecordKey | None = None
    other_person_id: str | None = None
    review_id: str | None = None

    @classmethod
    def by(cls, actor: Actor, kind: DecisionKind, person_id: str, at: dt.datetime, *, record: RecordKey | None = None,
           other_person_id: str | None = None, review_id: str | None = None) -> Decision:
        """A decision the actor takes at `at`."""
        return cls(kind, person_id, actor.subject, actor.role, at, actor.reason, record, other_person_id, review_id)
