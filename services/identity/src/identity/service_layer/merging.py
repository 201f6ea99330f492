"""A reviewer merges two persons into one, or undoes a merge; both are audited decisions.

A merge keeps the surviving person's id, moves the retired person's records to it and retires the other id (never
reused), marking every record of both as placed by a reviewer. Unmerging brings the retired id back with the
records the merge moved (those still on the survivor) and the verification flags as they were before, and records a
verified non-link between the two sides, so automatic matching never merges them again. Merges undo last-first:
a survivor that was itself merged away must be unmerged first. Callers own the transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters import repository
from identity.adapters.repository import StoredRecord
from identity.service_layer.errors import Conflict, DecisionRefused, NotFound
from identity.service_layer.linking import Linking, announce
from identity.service_layer.matching_port import RecordKey
from identity.service_layer.review import Actor
from simpul_contracts.events import PersonsMergedV1, PersonUnmergedV1
from simpul_contracts.events.identity import LinkReason


@dataclass(frozen=True)
class MergeOutcome:
    """What a merge or unmerge did: the merge, the two persons and the records moved."""

    merge_id: str
    person_id: str
    other_person_id: str
    moved: list[RecordKey]


async def merge(session: AsyncSession, linking: Linking, actor: Actor, person_id: str,
                into_person_id: str) -> MergeOutcome:
    """Merge `person_id` into `into_person_id` (which survives)."""
    await repository.lock(session)
    if person_id == into_person_id:
        raise DecisionRefused("into_person_id", "a person cannot be merged into itself")
    retired = await _active_in_scope(session, actor, person_id, "person_id")
    survivor = await _active_in_scope(session, actor, into_person_id, "into_person_id")
    if await repository.separated(session, [r.key for r in retired], [r.key for r in survivor]):
        raise Conflict("into_person_id", "a reviewer decided a record of one is another child than one of the other")
    now, merge_id = dt.datetime.now(dt.UTC), f"mrg_{uuid.uuid4().hex}"
    moved = [r.key for r in retired]
    flagged = [str(r.key) for r in (*retired, *survivor) if not r.verified]
    await repository.move(session, moved, into_person_id, now, verified=True)
    await repository.set_verified(session, [r.key for r in survivor], True)
    await repository.retire(session, person_id, into_person_id)
    await repository.add_merge(session, {
        "merge_id": merge_id, "surviving_person_id": into_person_id, "retired_person_id": person_id,
        "moved_records": [str(k) for k in moved], "verified_by_merge": flagged, "merged_by": actor.principal.subject,
        "merged_at": now})
    await repository.add_decision(session, actor.decision("merge", person_id, other_person_id=into_person_id))
    await linking.outbox.add(session, PersonsMergedV1(
        merge_id=merge_id, surviving_person_id=into_person_id, retired_person_id=person_id,
        moved_records=[str(k) for k in moved], merged_by=actor.principal.subject, merged_at=now))
    await announce(session, linking.outbox, [(r.key, r.village_code) for r in retired], person_id=into_person_id,
                   reason=LinkReason.VERIFIED, at=now)
    await actor.audit(session, "merge", "person", person_id)
    return MergeOutcome(merge_id, person_id, into_person_id, moved)


async def unmerge(session: AsyncSession, linking: Linking, actor: Actor, person_id: str) -> MergeOutcome:
    """Undo the merge that retired `person_id`: its records go back to it."""
    await repository.lock(session)
    merged = await repository.merge_retiring(session, person_id)
    if merged is None:
        exists, _ = await repository.person_exists(session, person_id)
        if not exists:
            raise NotFound("person_id", "no such person in your scope")
        raise Conflict("person_id", "this person is not merged into another")
    survivor_id: str = merged["surviving_person_id"]
    survivor = await _in_scope(session, actor, survivor_id, "person_id")
    _, survivor_retired_into = await repository.person_exists(session, survivor_id)
    if survivor_retired_into is not None:
        raise Conflict("person_id", f"the person it was merged into was merged since: unmerge {survivor_id} first")
    on_survivor = {r.key: r for r in survivor}
    back = [on_survivor[k] for k in map(RecordKey.parse, merged["moved_records"]) if k in on_survivor]
    now = dt.datetime.now(dt.UTC)
    await repository.retire(session, person_id, None)
    await repository.move(session, [r.key for r in back], person_id, now)
    await repository.set_verified(session, map(RecordKey.parse, merged["verified_by_merge"]), False)
    decision = await repository.add_decision(session, actor.decision("unmerge", person_id,
                                                                     other_person_id=survivor_id))
    staying = [k for k in on_survivor if k not in {r.key for r in back}]
    await repository.add_non_links(session, [r.key for r in back], staying, decision)
    await repository.close_merge(session, merged["merge_id"], actor.principal.subject, now)
    await linking.outbox.add(session, PersonUnmergedV1(
        merge_id=merged["merge_id"], person_id=person_id, unmerged_from_person_id=survivor_id,
        moved_records=[str(r.key) for r in back], unmerged_by=actor.principal.subject, unmerged_at=now))
    await announce(session, linking.outbox, [(r.key, r.village_code) for r in back], person_id=person_id,
                   reason=LinkReason.VERIFIED, at=now)
    await actor.audit(session, "unmerge", "person", person_id)
    return MergeOutcome(merged["merge_id"], person_id, survivor_id, [r.key for r in back])


async def _in_scope(session: AsyncSession, actor: Actor, person_id: str, field: str) -> list[StoredRecord]:
    """The person's records; NotFound unless one of them lies in the caller's scope."""
    records = await repository.records_of(session, person_id)
    if not any(actor.principal.covers_region(r.village_code) for r in records):
        raise NotFound(field, "no such person in your scope")
    return records


async def _active_in_scope(session: AsyncSession, actor: Actor, person_id: str, field: str) -> list[StoredRecord]:
    exists, retired_into = await repository.person_exists(session, person_id)
    if not exists:
        raise NotFound(field, "no such person in your scope")
    if retired_into is not None:
        raise Conflict(field, f"this person was merged into {retired_into}")
    return await _in_scope(session, actor, person_id, field)
