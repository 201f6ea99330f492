"""Relink: re-evaluate every automatic link under the model in force and announce what changes, so that registry,
referral and reporting follow.

A reviewer's decisions stay: a record placed by a reviewer (a verified link, or either side of a merge) is never
moved, and a verified non-link is never crossed. Every other record is judged as the live path judges one arriving:
1. Split: a person's records are grouped by the pairs the model is sure of (at or above the auto-link threshold, no
   rule or strong evidence against); the records a reviewer placed count as one group. The group holding them (else
   the largest, ties to the one with the first key) keeps the person; every other group becomes a new person.
2. Rejoin: a record its person is no longer a sure match for (no other record of it is, or a rule forbids) moves to
   the best other person it is sure of, else to a person of its own. A record sure of its person stays. The other
   persons it is sure of join its person, as linking joins them (rule 4 of `linking`).
3. Reviews: its open reviews are asked again as linking asks them (superseded when no longer what it would ask).
Each move is announced as `record linked` (reason `automatic_match`, or `new_person` for a person of its own). The
contract's `persons merged` and `person unmerged` stay a reviewer's decisions: relink never publishes them.
`relink` repeats passes over every record, one transaction per batch, until a pass announces nothing: a second run
changes nothing and publishes nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from identity.adapters.contract_mapping import to_wire
from identity.domain.commands import RelinkRecords
from identity.domain.events import LinkReason, RecordLinked
from identity.domain.person import Person
from identity.domain.source_records import Candidate, RecordKey, SourceRecord
from identity.service_layer.handlers.linking import join_persons, new_person_id, request_review
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from simpul_platform.unit_of_work import execute

BATCH = 200
MAX_PASSES = 5
RelinkProgress = Callable[[int, int, int], None]  # (pass, records done, records in all)


@dataclass(frozen=True)
class RelinkReport:
    """What a relink did: records seen, records moved, events announced, passes run, and whether it settled."""

    records: int
    moved: int
    announced: int
    passes: int
    settled: bool


@dataclass
class BatchOutcome:
    """What one batch changed."""

    moved: int = 0
    announced: int = 0


async def record_keys(command: None, uow: IdentityUnitOfWork) -> list[RecordKey]:
    """The keys of every record whose details identity holds."""
    return await uow.records.keys()


async def relink_records(command: RelinkRecords, uow: IdentityUnitOfWork) -> BatchOutcome:
    """Split and rejoin the records of the batch (rules 1 to 3 of the module docstring)."""
    outcome, before, split = BatchOutcome(), len(uow.events), set[str]()
    for key in command.keys:
        record = await uow.records.get(key)
        if record is None or record.details is None or record.verified:
            continue
        if record.person_id not in split:
            split.add(record.person_id)
            split.update(await _split(uow, record.person_id, outcome))
            record = await uow.records.get(key)
            assert record is not None
        await _rejoin(uow, record, outcome)
    outcome.announced = len(uow.events) - before
    return outcome


async def relink(unit_of_work: Callable[[], IdentityUnitOfWork], *, batch: int = BATCH,
                 max_passes: int = MAX_PASSES, progress: RelinkProgress | None = None) -> RelinkReport:
    """Relink every record, one transaction per batch, pass after pass until a pass announces nothing."""
    keys = await execute(unit_of_work(), record_keys, None)
    moved = announced = 0
    for number in range(1, max_passes + 1):
        in_pass = 0
        for start in range(0, len(keys), batch):
            chunk = tuple(keys[start:start + batch])
            outcome = await execute(unit_of_work(), relink_records, RelinkRecords(chunk))
            moved, in_pass = moved + outcome.moved, in_pass + outcome.announced
            if progress is not None:
                progress(number, start + len(chunk), len(keys))
        announced += in_pass
        if not in_pass:
            return RelinkReport(len(keys), moved, announced, number, settled=True)
    return RelinkReport(len(keys), moved, announced, max_passes, settled=False)


async def _split(uow: IdentityUnitOfWork, person_id: str, outcome: BatchOutcome) -> list[str]:
    """Rule 1: the persons split off the person."""
    person = await uow.persons.get(person_id)
    if person is None or person.retired_into is not None or len(person.records) < 2:
        return []
    placed = {r.key for r in person.records if r.verified or r.details is None}
    groups = (await _sure_groups(uow, person, placed)).groups()
    keeping = min(groups, key=lambda g: (not set(g) & placed, -len(g), min(map(str, g))))
    by_key = {r.key: r for r in person.records}
    now = dt.datetime.now(dt.UTC)
    return [await _move_to_new_person(uow, [by_key[k] for k in group], now, outcome)
            for group in groups if group is not keeping]


async def _sure_groups(uow: IdentityUnitOfWork, person: Person, placed: set[RecordKey]) -> _Groups:
    """The person's records joined by the pairs the model is sure of, and the placed ones joined together."""
    groups = _Groups(person.keys)
    for one, other in itertools.pairwise(sorted(placed, key=str)):
        groups.join(one, other)
    held = set(person.keys)
    auto_link = uow.matcher.thresholds.auto_link
    for record in person.records:
        if record.details is None:
            continue
        apart = await uow.decisions.non_linked(record.key)
        for match in await uow.matcher.matches(record.key, record.details):
            if match.key in held and match.key not in apart and not match.vetoed and match.score >= auto_link:
                groups.join(record.key, match.key)
    return groups


async def _rejoin(uow: IdentityUnitOfWork, record: SourceRecord, outcome: BatchOutcome) -> None:
    """Rules 2 and 3 for one record."""
    assert record.details is not None
    candidates = await uow.matcher.candidates(record.key, record.details)
    excluded = await uow.records.persons_of(await uow.decisions.non_linked(record.key))
    allowed = [c for c in candidates if not c.vetoed and c.person_id not in excluded]
    sure = [c for c in allowed if c.score >= uow.matcher.thresholds.auto_link]
    to_review: list[Candidate] = []
    now = dt.datetime.now(dt.UTC)
    if any(c.person_id == record.person_id for c in sure):
        person_id = record.person_id
    elif sure:
        person_id = await _move_to(uow, record, sure[0].person_id, now, outcome)
    else:
        to_review = [c for c in allowed if c.score >= uow.matcher.thresholds.review]
        person = await uow.persons.get(record.person_id)
        alone = person is not None and person.keys == [record.key]
        person_id = record.person_id if alone else await _move_to_new_person(uow, [record], now, outcome)
    others = [c.person_id for c in sure if c.person_id != person_id]
    if others:
        outcome.moved += await join_persons(uow, person_id, others, now)
    await request_review(uow, record.key, person_id, record.village_code,
                         [c for c in to_review if c.person_id != person_id])


async def _move_to(uow: IdentityUnitOfWork, record: SourceRecord, person_id: str, at: dt.datetime,
                   outcome: BatchOutcome) -> str:
    person = await uow.persons.get(person_id)
    assert person is not None, "a candidate is a stored person"
    person.receive(record, at)
    await uow.persons.save(person)
    _announce(uow, [record], person_id, LinkReason.AUTOMATIC_MATCH, at=at, outcome=outcome)
    return person_id


async def _move_to_new_person(uow: IdentityUnitOfWork, records: list[SourceRecord], at: dt.datetime,
                              outcome: BatchOutcome) -> str:
    person = Person(new_person_id(), at)
    for record in records:
        person.receive(record, at)
    await uow.persons.add(person)
    _announce(uow, records, person.person_id, LinkReason.NEW_PERSON, at=at, outcome=outcome)
    return person.person_id


def _announce(uow: IdentityUnitOfWork, records: list[SourceRecord], person_id: str, reason: LinkReason, *,
              at: dt.datetime, outcome: BatchOutcome) -> None:
    outcome.moved += len(records)
    uow.publish(*(to_wire(RecordLinked(r.key, person_id, r.village_code, reason, at)) for r in records))


class _Groups:
    """Union-find over record keys."""

    def __init__(self, keys: Iterable[RecordKey]) -> None:
        self._parent = {key: key for key in keys}

    def _root(self, key: RecordKey) -> RecordKey:
        while self._parent[key] != key:
            self._parent[key] = self._parent[self._parent[key]]
            key = self._parent[key]
        return key

    def join(self, one: RecordKey, other: RecordKey) -> None:
        self._parent[self._root(one)] = self._root(other)

    def groups(self) -> list[list[RecordKey]]:
        found: dict[RecordKey, list[RecordKey]] = {}
        for key in self._parent:
            found.setdefault(self._root(key), []).append(key)
        return list(found.values())
