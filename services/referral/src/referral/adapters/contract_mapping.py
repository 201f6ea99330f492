"""The only bridge between identity's wire events and referral's domain."""

from __future__ import annotations

from referral.domain.case_status import CaseStatus
from referral.domain.commands.persons import PersonsMerged, PersonUnmerged
from referral.domain.model import KnownPerson
from simpul_contracts.events import CaseStatusChangedV1, PersonsMergedV1, PersonUnmergedV1, RecordLinkedV1
from simpul_contracts.events.registry import CaseStatus as WireCaseStatus


def known_person(event: RecordLinkedV1) -> KnownPerson:
    """A link event as the person referral now knows of."""
    return KnownPerson(record_key=event.key, person_id=event.person_id, village_code=event.village_code)


def persons_merged(event: PersonsMergedV1) -> PersonsMerged:
    """Identity's merge as the move referral follows."""
    return PersonsMerged(merge_id=event.merge_id, retired_person_id=event.retired_person_id,
                         surviving_person_id=event.surviving_person_id, at=event.merged_at)


def person_unmerged(event: PersonUnmergedV1) -> PersonUnmerged:
    """Identity's unmerge as the move back referral follows."""
    return PersonUnmerged(merge_id=event.merge_id, person_id=event.person_id,
                          unmerged_from_person_id=event.unmerged_from_person_id, at=event.unmerged_at)


def case_status(event: CaseStatusChangedV1) -> CaseStatus:
    """The registry's case status change as referral keeps it."""
    return CaseStatus(child_id=event.child_id, status=str(event.status), closed=event.status is WireCaseStatus.CLOSED,
                      changed_at=event.changed_at)
