"""A reviewer merges two persons into one, or undoes a merge (audited decisions, announced)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from identity.adapters.contract_mapping import to_wire
from identity.domain.commands import Actor, MergePersons, UnmergePerson
from identity.domain.decisions import Decision, DecisionKind
from identity.domain.errors import Conflict, NotFound
from identity.domain.events import LinkReason, PersonsMerged, PersonUnmerged, RecordLinked
from identity.domain.person import Person, refuse_merge_into_itself
from identity.domain.source_records import RecordKey, SourceRecord
from identity.service_layer.handlers.reviews import access
from identity.service_layer.unit_of_work import IdentityUnitOfWork


@dataclass(frozen=True)
class MergeOutcome:
    """What a merge or unmerge did: the merge, the two persons and the records moved."""

    merge_id: str
    person_id: str
    other_person_id: str
    moved: list[RecordKey]


async def merge_persons(command: MergePersons, uow: IdentityUnitOfWork) -> MergeOutcome:
    """Merge `person_id` into `into_person_id` (which survives)."""
    refuse_merge_into_itself(command.person_id, command.into_person_id)
    retired = await _active_in_scope(uow, command.actor, command.person_id, "person_id")
    survivor = await _active_in_scope(uow, command.actor, command.into_person_id, "into_person_id")
    if await uow.decisions.separated(retired.keys, survivor.keys):
        raise Conflict("into_person_id", "a reviewer decided a record of one is another child than one of the other")
    now = dt.datetime.now(dt.UTC)
    merge = retired.merge_into(survivor, merge_id=f"mrg_{uuid.uuid4().hex}", by=command.actor.subject, at=now)
    for person in (retired, survivor):
        await uow.persons.save(person)
    await uow.merges.add(merge)
    await uow.decisions.add(Decision.by(command.actor, DecisionKind.MERGE, retired.person_id, now,
                                        other_person_id=survivor.person_id))
    uow.publish(to_wire(PersonsMerged(merge.merge_id, survivor.person_id, retired.person_id, merge.moved,
                                      command.actor.subject, now)))
    _announce(uow, [r for r in survivor.records if r.key in set(merge.moved)], survivor.person_id, now)
    uow.audit(access(command.actor, "merge", "person", retired.person_id))
    return MergeOutcome(merge.merge_id, retired.person_id, survivor.person_id, list(merge.moved))


async def unmerge_person(command: UnmergePerson, uow: IdentityUnitOfWork) -> MergeOutcome:
    """Undo the merge that retired `person_id`: its records go back to it."""
    merge = await uow.merges.in_force_retiring(command.person_id)
    retired = await uow.persons.get(command.person_id)
    if retired is None:
        raise NotFound("person_id", "no such person in your scope")
    if merge is None:
        raise Conflict("person_id", "this person is not merged into another")
    survivor = await _in_scope(uow, command.actor, merge.surviving_person_id, "person_id")
    now = dt.datetime.now(dt.UTC)
    back = retired.unmerge_from(survivor, merge, now)
    decision = await uow.decisions.add(Decision.by(command.actor, DecisionKind.UNMERGE, retired.person_id, now,
                                                   other_person_id=survivor.person_id))
    await uow.decisions.add_non_links([r.key for r in back], survivor.keys, decision)
    merge.undo(command.actor.subject, now)
    await uow.merges.save(merge)
    for person in (retired, survivor):
        await uow.persons.save(person)
    moved = tuple(r.key for r in back)
    uow.publish(to_wire(PersonUnmerged(merge.merge_id, retired.person_id, survivor.person_id, moved,
                                       command.actor.subject, now)))
    _announce(uow, back, retired.person_id, now)
    uow.audit(access(command.actor, "unmerge", "person", retired.person_id))
    return MergeOutcome(merge.merge_id, retired.person_id, survivor.person_id, list(moved))


def _announce(uow: IdentityUnitOfWork, records: list[SourceRecord], person_id: str, at: dt.datetime) -> None:
    uow.publish(*(to_wire(RecordLinked(r.key, person_id, r.village_code, LinkReason.VERIFIED, at)) for r in records))


async def _in_scope(uow: IdentityUnitOfWork, actor: Actor, person_id: str, field: str) -> Person:
    """The person; NotFound unless one of its records lies in the caller's scope."""
    return _scoped(await uow.persons.get(person_id), actor, field)


async def _active_in_scope(uow: IdentityUnitOfWork, actor: Actor, person_id: str, field: str) -> Person:
    person = await uow.persons.get(person_id)
    if person is not None:
        person.must_be_active(field)
    return _scoped(person, actor, field)


def _scoped(person: Person | None, actor: Actor, field: str) -> Person:
    if person is None or not any(actor.covers(r.village_code) for r in person.records):
        raise NotFound(field, "no such person in your scope")
    return person
