"""Link each incoming source record to a person (an existing one or a new one) and announce it.

The rules, in order:
1. A record that arrives again with the details identity already holds changes nothing: redelivered or resent,
   it is linked once.
2. A record a reviewer placed (a verified link, or either side of a merge) stays where the reviewer put it; only its
   details are updated. Automatic matching never overrides a human decision.
3. Persons holding a record a reviewer declared another child (a verified non-link) are never candidates.
4. One candidate at or above the auto-link threshold, not vetoed by a rule (siblings, two own NIKs): link to it.
   Two or more: it is not ours to choose, so a reviewer decides. A false merge (two children's cases mixed) is the
   worst error, so an unsure match is never a link.
5. Otherwise the record keeps a person of its own (the one it had, if no other record shares it; else a new one),
   and candidates in the review band go to a reviewer with `review requested`.
"""

from __future__ import annotations

import datetime as dt
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


@dataclass(frozen=True)
class Placement:
    """Where matching puts a record: an existing person (None: a person of its own) and what a reviewer should see."""

    person_id: str | None
    to_review: list[Candidate] = field(default_factory=list)


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
    if stored is not None and stored.details == seen.details:
        return
    now = dt.datetime.now(dt.UTC)
    placement = Placement(stored.person_id) if stored is not None and stored.verified else await place(uow, seen)
    person_id = placement.person_id or await _own_person(uow, seen.key, stored, now)
    moved = stored is None or stored.person_id != person_id
    await uow.records.save(SourceRecord(
        seen.key, person_id, seen.details.village_code, stored.verified if stored else False, seen.details,
        now if moved or stored is None else stored.linked_at))
    if moved:
        reason = LinkReason.AUTOMATIC_MATCH if placement.person_id else LinkReason.NEW_PERSON
        uow.publish(to_wire(RecordLinked(seen.key, person_id, seen.details.village_code, reason, now)))
    if stored is None or not stored.verified:
        await request_review(uow, seen.key, person_id, seen.details.village_code, placement.to_review)


async def place(uow: IdentityUnitOfWork, seen: RecordSeen) -> Placement:
    """Where automatic matching puts a record (rules 3 to 5 of the module docstring)."""
    candidates = await uow.matcher.candidates(seen.key, seen.details)
    excluded = await uow.records.persons_of(await uow.decisions.non_linked(seen.key))
    allowed = [c for c in candidates if not c.vetoed and c.person_id not in excluded]
    sure = [c for c in allowed if c.score >= uow.matcher.thresholds.auto_link]
    if len(sure) == 1:
        return Placement(sure[0].person_id)
    return Placement(None, [c for c in allowed if c.score >= uow.matcher.thresholds.review])


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
