"""Commands of the `persons` area: the persons referral may refer, and following identity's merges and unmerges and
the registry's case status onto the referrals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from referral.domain.case_status import CaseStatus, ClosureRule
from referral.domain.model import KnownPerson


@dataclass(frozen=True)
class RecordKnownPersons:
    """Keep the record -> person mapping current (one run of identity's link events, in order)."""

    persons: tuple[KnownPerson, ...]


@dataclass(frozen=True)
class PersonsMerged:
    """Identity decided two persons are one: the retired person's referrals follow the surviving one."""

    merge_id: str
    retired_person_id: str
    surviving_person_id: str
    at: dt.datetime


@dataclass(frozen=True)
class PersonUnmerged:
    """Identity undid a merge: the referrals it moved go back to the person it had retired."""

    merge_id: str
    person_id: str
    unmerged_from_person_id: str
    at: dt.datetime


@dataclass(frozen=True)
class FollowMerges:
    """Move referrals after a run of merges, in order."""

    merges: tuple[PersonsMerged, ...]


@dataclass(frozen=True)
class FollowUnmerges:
    """Move referrals back after a run of unmerges, in order."""

    unmerges: tuple[PersonUnmerged, ...]


@dataclass(frozen=True)
class RecordCaseStatuses:
    """Show the registry's case statuses on the children's referrals (a run, in order); a closure revokes the open
    ones where the district's rule says so."""

    statuses: tuple[CaseStatus, ...]
    closure: ClosureRule
