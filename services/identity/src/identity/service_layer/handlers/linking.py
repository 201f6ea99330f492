"""Link each incoming source record to a person (an existing one or a new one) and announce it.

The rules, in order:
1. A record that arrives again with the details identity already holds changes nothing: redelivered or resent,
   it is linked once. Details recorded before the ones held (a replayed dead letter landing after newer events)
   change nothing either: an older version never overwrites a newer one.
2. A record a reviewer placed (a verified link, or either side of a merge) stays where the reviewer put it; only its
   details are updated. Automatic matching never overrides a human decision.
3. Persons holding a record a reviewer declared another child (a verified non-link) are never candidates.
4. Candidates at or above the auto-link threshold that no rule forbids (siblings, two own NIKs, a pair the model
   finds strongly two children): link to the best, as the engine's `PersonIndex.decide` does. The record is the same
   child as each of them, so the others join that person too, as batch clustering joins them through the record,
   unless a reviewer placed one of their records, a verified non-link or two own NIKs stand between them, or a rule
   forbids a pair of their records. A false merge (two children's cases mixed) is the worst error, so an unsure
   match is never a link.
5. Otherwise the record keeps a person of its own (the one it had, if no other record shares it; else a new one),
   and candidates in the review band go to a reviewer with `review requested`.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from identity.adapters.contract_mapping import to_wire
from identity.domain.commands import LinkRecords, RecordSeen
from identity.domain.events import LinkReason, RecordLinked, ReviewRequested
from identity.domain.person import Person
from identity.domain.review import Review
from identity.domain.source_records import Candidate, RecordKey, SourceRecord
from identity.service_layer.unit_of_work import IdentityUnitOfWork

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Placement:
    """Where matching puts a record: an existing person (None: a person of its own) and what a reviewer should see."""

    person_id: str | None
    to_review: list[Candidate] = field(default_factory=list)
    joining: list[str] = field(default_factory=list)  # other persons the record is sure to be


def new_person_id() -> str:
    """An opaque person id, never reused."""
    return f"per_{uuid.uuid4().hex}"


async def link_records(command: LinkRecords, uow: IdentityUnitOfWork) -> None:
    """Link every record of the run, in order (later records see the earlier ones)."""
    for seen in command.records:
        await link_record(seen, uow)


async def link_record(seen: RecordSeen, uow: IdentityUnitOfWork) -> None:
    """Find the record's person (or create one) and announce a changed link or an unsure match."""
    stored = await uow.records.get(seen.key)
    if stored is not None and stored.erased_at is not None:
        log.debug("skipped details of an erased %s record", seen.key.source_system)  # late or replayed
        return
    if stored is not None and stored.holds_newer_than(seen.recorded_at):
        log.debug("skipped details of a %s record recorded before the ones held", seen.key.source_system)
        return
    if stored is not None and stored.details == seen.details:
        if seen.recorded_at is not None and seen.recorded_at != stored.recorded_at:
            await uow.records.note_recorded(seen.key, seen.recorded_at)  # so an older change stays refused
        return
    now = dt.datetime.now(dt.UTC)
    placement = Placement(stored.person_id) if stored is not None and stored.verified else await place(uow, seen)
    person_id = placement.person_id or await _own_person(uow, seen.key, stored, now)
    moved = stored is None or stored.person_id != person_id
    await uow.records.save(SourceRecord(
        seen.key, person_id, seen.details.village_code, stored.verified if stored else False, seen.details,
        now if moved or stored is None else stored.linked_at, seen.recorded_at))
    if moved:
        reason = LinkReason.AUTOMATIC_MATCH if placement.person_id else LinkReason.NEW_PERSON
        uow.publish(to_wire(RecordLinked(seen.key, person_id, seen.details.village_code, reason, now)))
    if placement.joining:
        await join_persons(uow, person_id, placement.joining, now)
    if stored is None or not stored.verified:
        await request_review(uow, seen.key, person_id, seen.details.village_code, placement.to_review)


async def place(uow: IdentityUnitOfWork, seen: RecordSeen) -> Placement:
    """Where automatic matching puts a record (rules 3 to 5 of the module docstring)."""
    candidates = await uow.matcher.candidates(seen.key, seen.details)
    excluded = await uow.records.persons_of(await uow.decisions.non_linked(seen.key))
    allowed = [c for c in candidates if not c.vetoed and c.person_id not in excluded]
    sure = [c for c in allowed if c.score >= uow.matcher.thresholds.auto_link]
    if sure:
        return Placement(sure[0].person_id, joining=[c.person_id for c in sure[1:]])
    return Placement(None, [c for c in allowed if c.score >= uow.matcher.thresholds.review])


async def join_persons(uow: IdentityUnitOfWork, person_id: str, others: Sequence[str], at: dt.datetime) -> int:
    """The records of each other person join `person_id`, unless something stands between them (rule 4); how many
    records moved."""
    target = await uow.persons.get(person_id)
    assert target is not None, "the record was just linked to it"
    moved = 0
    for other_id in others:
        other = await uow.persons.get(other_id)
        if other is None or other.retired_into is not None or await _kept_apart(uow, other, target):
            continue
        for record in other.records:
            target.receive(record, at)
        await uow.persons.save(target)
        uow.publish(*(to_wire(RecordLinked(r.key, person_id, r.village_code, LinkReason.AUTOMATIC_MATCH, at))
                      for r in other.records))
        moved += len(other.records)
    return moved


async def _kept_apart(uow: IdentityUnitOfWork, other: Person, target: Person) -> bool:
    if any(r.verified or r.details is None for r in other.records):
        return True
    ours, theirs = ({nik for r in p.records if (nik := r.own_nik())} for p in (target, other))
    if (ours and theirs and ours != theirs) or await uow.decisions.separated(other.keys, target.keys):
        return True
    for record in other.records:
        assert record.details is not None
        if any(m.vetoed and m.person_id == target.person_id
               for m in await uow.matcher.matches(record.key, record.details)):
            return True
    return False


async def _own_person(uow: IdentityUnitOfWork, key: RecordKey, stored: SourceRecord | None, at: dt.datetime) -> str:
    if stored is not None:
        person = await uow.persons.get(stored.person_id)
        if person is not None and all(r.key == key for r in person.records):
            return stored.person_id
    person = Person(new_person_id(), at)
    await uow.persons.add(person)
    return person.person_id


async def request_review(uow: IdentityUnitOfWork, key: RecordKey, person_id: str, village_code: str,
                         candidates: Sequence[Candidate]) -> None:
    """Queue a review of the record against its candidates, superseding an open one that asked something else."""
    now = dt.datetime.now(dt.UTC)
    for open_review in await uow.reviews.open_for(key):
        if open_review.asks(person_id, {c.person_id for c in candidates}):
            return
        open_review.supersede(now)
        await uow.reviews.save(open_review)
    if not candidates:
        return
    review = Review.request(f"rev_{uuid.uuid4().hex}", key, person_id, village_code=village_code,
                            candidates=candidates, at=now)
    await uow.reviews.add(review)
    uow.publish(to_wire(ReviewRequested(
        review.review_id, key, person_id, village_code, tuple(c.person_id for c in candidates),
        tuple(c.score for c in candidates), now)))
