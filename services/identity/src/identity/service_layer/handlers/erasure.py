"""The registry erased a child (ChildErasedV1): identity drops the record's identifying details and keeps its link.

The record keeps its person, so persons and counts stay what they were; its details (the five sealed columns), the
NIK's blind index and its place in the matching index go, the open reviews of it close (a reviewer would see
nothing to compare) and reviewers' reasons about it are replaced, since they can name the child. Details of the
record arriving later (a late or replayed event from before the erasure) are ignored by `link_record`.
"""

from __future__ import annotations

import logging

from identity.domain.commands import EraseRecords, RecordErased
from identity.domain.person import Person
from identity.domain.source_records import SourceRecord
from identity.service_layer.handlers.linking import new_person_id
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from simpul_platform.unit_of_work import Access

log = logging.getLogger(__name__)


async def erase_records(command: EraseRecords, uow: IdentityUnitOfWork) -> None:
    """Erase each record's details, in order; an erased record stays erased."""
    for erased in command.records:
        await erase_record(erased, uow)


async def erase_record(erased: RecordErased, uow: IdentityUnitOfWork) -> None:
    """Drop the details, keep the person (a new one when the details never arrived), close its reviews."""
    stored = await uow.records.get(erased.key)
    if stored is not None and stored.erased_at is not None:
        return
    if stored is None:  # its details may still come (another topic): the erased row refuses them
        person = Person(new_person_id(), erased.erased_at)
        await uow.persons.add(person)
        stored = SourceRecord(erased.key, person.person_id, erased.village_code, linked_at=erased.erased_at)
    await uow.records.erase(stored.erased(erased.erased_at))
    for review in await uow.reviews.open_for(erased.key):
        review.supersede(erased.erased_at)
        await uow.reviews.save(review)
    uow.audit(Access(subject="registry", role="service", action="erase", resource="source_record",
                     resource_ids=(str(erased.key),), reason=f"registry erasure: {erased.reason}"))
    log.info("erased the details of a %s record", erased.key.source_system)
