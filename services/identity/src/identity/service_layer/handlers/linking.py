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
6. A person the record is sure of through some of its records (or certain of, through one) while a rule or strong
   evidence keeps it apart from others was joined on evidence batch clustering refuses once this record is known
   (batch sees every record at once; the live path sees them in arrival order). Its records and this one are
   grouped again as batch clustering groups them, and the groups kept apart from the record's leave (see
   `regroup`), announced with `record linked`.
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
    contested: bool = False  # a person the record is certain or sure of holds records kept apart from it


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
        await regroup(uow, seen, person_id, now, placement)
        await request_review(uow, seen.key, person_id, seen.details.village_code, placement.to_review)


async def place(uow: IdentityUnitOfWork, seen: RecordSeen) -> Placement:
    """Where automatic matching puts a record (rules 3 to 5 of the module docstring)."""
    candidates = await uow.matcher.candidates(seen.key, seen.details)
    excluded = await uow.records.persons_of(await uow.decisions.non_linked(seen.key))
    allowed = [c for c in candidates if not c.vetoed and c.person_id not in excluded]
    sure = [c for c in allowed if c.score >= uow.matcher.thresholds.auto_link]
    contested = any(c.kept_apart and (c.certain or c.score >= uow.matcher.thresholds.auto_link) for c in candidates)
    if sure:
        return Placement(sure[0].person_id, joining=[c.person_id for c in sure[1:]], contested=contested)
    return Placement(None, [c for c in allowed if c.score >= uow.matcher.thresholds.review], contested=contested)


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


async def regroup(uow: IdentityUnitOfWork, seen: RecordSeen, person_id: str, at: dt.datetime,
                  placement: Placement | None = None) -> int:
    """Rule 6: a person the record is sure (or certain) of through some of its records while a rule or strong
    evidence keeps it apart from others of them was joined on evidence that batch clustering refuses once this
    record is known. Its records and this one are grouped again as batch clustering groups them (certain pairs
    first, then the sure pairs strongest first, never across a pair kept apart). The group with the record goes to
    the record's person (only when the record is linked to that person or holds a person of its own); of the groups
    kept apart from it, the largest keeps the person unless the record is in it, the others become new persons;
    any other group stays. A person holding a record a reviewer placed is left alone. How many records moved.
    With the record's `placement`, a record no such person was a candidate for is not looked at again."""
    if placement is not None and not placement.contested:
        return 0
    matches = await uow.matcher.matches(seen.key, seen.details)
    auto_link = uow.matcher.thresholds.auto_link
    apart = {m.person_id for m in matches if m.vetoed}
    sure = {m.person_id for m in matches if m.certain or (not m.vetoed and m.score >= auto_link)}
    mine = await uow.persons.get(person_id)
    assert mine is not None, "the record was just linked to it"
    moved = 0
    for other_id in sorted(apart & sure):
        if other_id != person_id and len(mine.records) > 1:
            continue  # the record is linked to another person: whether the two join is rule 4's
        other = await uow.persons.get(other_id)
        if other is None or other.retired_into is not None or any(r.verified or r.details is None
                                                                  for r in other.records):
            continue
        moved += await _regroup(uow, seen.key, person_id, other, at)
        mine = await uow.persons.get(person_id)
        assert mine is not None
    return moved


@dataclass
class _Within:
    """The pairs among some records: certain ones, sure ones (score, one, other) and ones kept apart."""

    certain: list[tuple[RecordKey, RecordKey]] = field(default_factory=list)
    sure: list[tuple[float, RecordKey, RecordKey]] = field(default_factory=list)
    apart: list[tuple[RecordKey, RecordKey]] = field(default_factory=list)


async def _pairs_within(uow: IdentityUnitOfWork, members: Sequence[RecordKey]) -> _Within:
    within, held = _Within(), set(members)
    for one in members:
        record = await uow.records.get(one)
        assert record is not None
        assert record.details is not None
        for m in await uow.matcher.matches(one, record.details):
            if m.key not in held:
                continue
            if m.certain:
                within.certain.append((one, m.key))
            elif m.vetoed:
                within.apart.append((one, m.key))
            elif m.score >= uow.matcher.thresholds.auto_link:
                within.sure.append((m.score, one, m.key))
    return within


def _grouped(members: Sequence[RecordKey], within: _Within) -> list[list[RecordKey]]:
    """As batch clustering groups records: certain pairs first, then sure pairs strongest first, never across a
    pair kept apart."""
    parent = {k: k for k in members}

    def root(k: RecordKey) -> RecordKey:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for one, two in within.certain:
        parent[root(one)] = root(two)
    for _, one, two in sorted(within.sure, key=lambda item: -item[0]):
        a, b = root(one), root(two)
        if a != b and not any({root(x), root(y)} == {a, b} for x, y in within.apart):
            parent[a] = b
    groups: dict[RecordKey, list[RecordKey]] = {}
    for k in members:
        groups.setdefault(root(k), []).append(k)
    return list(groups.values())


async def _regroup(uow: IdentityUnitOfWork, key: RecordKey, person_id: str, other: Person, at: dt.datetime) -> int:
    records = {r.key: r for r in other.records if r.key != key}
    members = [key, *records]
    within = await _pairs_within(uow, members)
    groups = _grouped(members, within)
    with_record = next(g for g in groups if key in g)
    if len(groups) < 2 or len(with_record) < 2:
        return 0

    def kept_apart(group: list[RecordKey]) -> bool:
        return any((x in group and y in with_record) or (y in group and x in with_record) for x, y in within.apart)

    # The record's group goes to the record's person. Groups kept apart from it leave: the largest keeps the
    # person when the record is not in it, any other becomes a new person. Other groups stay where they are.
    rest = sorted((g for g in groups if g is not with_record),
                  key=lambda g: (not kept_apart(g), -len(g), min(map(str, g))))
    keeper = other.person_id if person_id != other.person_id else None
    plan: list[tuple[str | None, list[RecordKey]]] = [(person_id, with_record)]
    plan += [(keeper if index == 0 else None, group) if kept_apart(group) else (other.person_id, group)
             for index, group in enumerate(rest)]
    moved = 0
    for target_id, group in plan:
        leaving = [records[k] for k in group if k in records and records[k].person_id != target_id]
        if leaving:
            moved += await _move(uow, leaving, target_id, at)
    return moved


async def _move(uow: IdentityUnitOfWork, leaving: Sequence[SourceRecord], target_id: str | None,
                at: dt.datetime) -> int:
    """The records join the person (a new one when None), announced."""
    target = await uow.persons.get(target_id) if target_id else Person(new_person_id(), at)
    assert target is not None, "a stored person"
    for record in leaving:
        target.receive(record, at)
    await (uow.persons.save(target) if target_id else uow.persons.add(target))
    reason = LinkReason.AUTOMATIC_MATCH if target_id else LinkReason.NEW_PERSON
    uow.publish(*(to_wire(RecordLinked(r.key, target.person_id, r.village_code, reason, at)) for r in leaving))
    return len(leaving)


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
