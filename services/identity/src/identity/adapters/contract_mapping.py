"""The only bridge between identity's domain and the wire contracts, both directions."""

from __future__ import annotations

from collections.abc import Sequence
from functools import singledispatch

from identity.domain.commands import EraseRecords, LinkRecords, RecordErased, RecordSeen
from identity.domain.events import LinkReason, PersonsMerged, PersonUnmerged, RecordLinked, ReviewRequested
from identity.domain.source_records import Details, RecordKey
from simpul_contracts import Event
from simpul_contracts.events import (
    ChildErasedV1,
    ChildIdentityRecordedV1,
    PersonsMergedV1,
    PersonUnmergedV1,
    RecordLinkedV1,
    ReviewRequestedV1,
)
from simpul_contracts.events import identity as wire
from simpul_platform.delivery import Delivery

# --- incoming ---------------------------------------------------------------------------------------------------


def record_seen(event: ChildIdentityRecordedV1) -> RecordSeen:
    """A registry record's identifying details, as identity keeps them."""
    return RecordSeen(RecordKey(event.source_system, event.source_record_id), Details(
        full_name=event.full_name, sex=event.sex.value, village_code=event.village_code, birth_date=event.birth_date,
        birth_date_precision=event.birth_date_precision.value if event.birth_date_precision else None,
        nik=event.nik, kk_number=event.kk_number, mother_name=event.mother_name), event.recorded_at)


def link_records(deliveries: Sequence[Delivery]) -> LinkRecords:
    """One command for a run of registry records, in delivery order."""
    events = [d.event for d in deliveries]
    return LinkRecords(tuple(record_seen(e) for e in events if isinstance(e, ChildIdentityRecordedV1)))


def erase_records(deliveries: Sequence[Delivery]) -> EraseRecords:
    """One command for a run of the registry's erasures, in delivery order."""
    return EraseRecords(tuple(
        RecordErased(RecordKey(e.source_system, e.source_record_id), e.village_code, e.reason.value, e.erased_at)
        for e in (d.event for d in deliveries) if isinstance(e, ChildErasedV1)))


# --- outgoing ---------------------------------------------------------------------------------------------------


def link_reason(reason: LinkReason) -> wire.LinkReason:
    """The wire's link reason."""
    return wire.LinkReason(reason.value)


@singledispatch
def to_wire(event: object) -> Event:
    """The wire event of a domain event."""
    raise TypeError(f"no wire event for {type(event).__name__}")


@to_wire.register
def _(event: RecordLinked) -> Event:
    return RecordLinkedV1(source_system=event.key.source_system, source_record_id=event.key.source_record_id,
                          person_id=event.person_id, village_code=event.village_code,
                          reason=link_reason(event.reason), linked_at=event.at)


@to_wire.register
def _(event: ReviewRequested) -> Event:
    return ReviewRequestedV1(
        review_id=event.review_id, source_system=event.key.source_system,
        source_record_id=event.key.source_record_id, person_id=event.person_id, village_code=event.village_code,
        candidate_person_ids=list(event.candidate_person_ids), candidate_scores=list(event.candidate_scores),
        requested_at=event.at)


@to_wire.register
def _(event: PersonsMerged) -> Event:
    return PersonsMergedV1(merge_id=event.merge_id, surviving_person_id=event.surviving_person_id,
                           retired_person_id=event.retired_person_id, moved_records=[str(k) for k in event.moved],
                           merged_by=event.by, merged_at=event.at)


@to_wire.register
def _(event: PersonUnmerged) -> Event:
    return PersonUnmergedV1(merge_id=event.merge_id, person_id=event.person_id,
                            unmerged_from_person_id=event.unmerged_from_person_id,
                            moved_records=[str(k) for k in event.moved], unmerged_by=event.by,
                            unmerged_at=event.at)
