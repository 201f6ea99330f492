"""An in-memory identity unit of work for fast tests: the same repositories and matching engine, no database.

State lives in an `IdentityStore` (what a database would hold); a transaction works on it and a rollback restores
the snapshot taken when it began. The matcher is the domain's `PersonIndex`, labelled by record version like the
real one, so superseded or rolled-back details are dropped the same way.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from identity.adapters import repository
from identity.adapters.record_index import RECORDS_PER_QUERY, by_person, record_match
from identity.domain.decisions import Decision
from identity.domain.index import Candidate as PairCandidate
from identity.domain.index import PersonIndex
from identity.domain.model import MatchModel
from identity.domain.person import Merge, Person
from identity.domain.records import Record
from identity.domain.review import Review
from identity.domain.source_records import (
    Candidate,
    Details,
    RecordKey,
    RecordMatch,
    SourceRecord,
    Thresholds,
    as_record,
)
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from simpul_platform.unit_of_work import InMemoryUnitOfWork


@dataclass
class IdentityStore:
    """What identity's database holds: records (with their details' version), persons, reviews, decisions."""

    records: dict[RecordKey, tuple[SourceRecord, str]] = field(default_factory=dict)
    persons: dict[str, tuple[dt.datetime, str | None]] = field(default_factory=dict)
    reviews: dict[str, Review] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    non_links: dict[tuple[str, str], int] = field(default_factory=dict)
    merges: dict[str, Merge] = field(default_factory=dict)


class MemoryMatcher:
    """The `Matcher` port over an in-memory `PersonIndex`, resolved to persons through the store."""

    def __init__(self, store: IdentityStore, model: MatchModel, thresholds: Thresholds) -> None:
        self.store, self.thresholds = store, thresholds
        self.index = PersonIndex(model)
        self.labels: dict[str, RecordKey] = {}

    def add(self, key: RecordKey, version: str, details: Details) -> None:
        """Index a record's new details under their version."""
        self.index.add(as_record(key, details), version)
        self.labels[version] = key

    async def candidates(self, key: RecordKey, details: Details) -> list[Candidate]:
        """The persons the record may be, through records other than itself, most likely first."""
        return by_person((person, pair) for _, person, pair in self._pairs(key, details))

    async def matches(self, key: RecordKey, details: Details) -> list[RecordMatch]:
        """The other records the record may be the same child as, with their persons now, most likely first."""
        return [record_match(other, person, pair) for other, person, pair in self._pairs(key, details)]

    def _pairs(self, key: RecordKey, details: Details) -> list[tuple[RecordKey, str, PairCandidate]]:
        found = []
        for pair in self.index.candidates(as_record(key, details), RECORDS_PER_QUERY):
            other = self.labels.get(pair.person_id)
            stored = self.store.records.get(other) if other not in (None, key) else None
            if stored is not None and stored[1] == pair.person_id:  # the version is the record's current details
                found.append((stored[0].key, stored[0].person_id, pair))
        return found


class MemorySourceRecords(repository.SourceRecords):
    """Source records in the store."""

    def __init__(self, uow: FakeIdentityUnitOfWork) -> None:
        self.uow = uow

    async def get(self, key: RecordKey) -> SourceRecord | None:
        """The record, or None."""
        stored = self.uow.store.records.get(key)
        return stored[0] if stored else None

    async def save(self, record: SourceRecord) -> None:
        """Store the record under a fresh version; the matcher indexes it."""
        assert record.details is not None, "linking always stores details"
        version = uuid.uuid4().hex
        self.uow.store.records[record.key] = (record, version)
        self.uow.matcher.add(record.key, version, record.details)

    async def erase(self, record: SourceRecord) -> None:
        """Store the erased record under no version (the matcher drops it); reviewers' reasons about it go."""
        self.uow.store.records[record.key] = (record, "")
        self.uow.store.decisions = [replace(d, reason="(erased)") if d.record == record.key and d.reason else d
                                    for d in self.uow.store.decisions]

    async def note_recorded(self, key: RecordKey, recorded_at: dt.datetime) -> None:
        """Keep the time the unchanged details were recorded again."""
        record, version = self.uow.store.records[key]
        self.uow.store.records[key] = (replace(record, recorded_at=recorded_at), version)

    async def persons_of(self, keys: Iterable[RecordKey]) -> set[str]:
        """The persons these records are linked to now."""
        return {stored[0].person_id for key in keys if (stored := self.uow.store.records.get(key))}

    async def keys(self) -> list[RecordKey]:
        """The keys of every record with details, ordered by key."""
        return sorted((k for k, (r, _) in self.uow.store.records.items() if r.details is not None),
                      key=lambda k: (k.source_system, k.source_record_id))

    async def all_details(self) -> list[Record]:
        """Every record's current details, as the matching engine's records."""
        return [as_record(r.key, r.details) for r, _ in self.uow.store.records.values() if r.details is not None]


class MemoryPersons(repository.Persons):
    """Persons in the store, their records found by person id."""

    def __init__(self, store: IdentityStore) -> None:
        self.store = store

    async def get(self, person_id: str) -> Person | None:
        """The person with its records, ordered by key."""
        if person_id not in self.store.persons:
            return None
        created_at, retired_into = self.store.persons[person_id]
        records = sorted((r for r, _ in self.store.records.values() if r.person_id == person_id),
                         key=lambda r: (r.key.source_system, r.key.source_record_id))
        return Person(person_id, created_at, records, retired_into)

    async def add(self, person: Person) -> None:
        """Store a new person and link its records to it."""
        assert person.person_id not in self.store.persons, "person ids are never reused"
        await self.save(person)

    async def save(self, person: Person) -> None:
        """Store whether the person is retired and where its records are (details stay as stored)."""
        self.store.persons[person.person_id] = (person.created_at, person.retired_into)
        for record in person.records:
            stored, version = self.store.records[record.key]
            self.store.records[record.key] = (replace(stored, person_id=person.person_id, linked_at=record.linked_at,
                                                      verified=record.verified), version)


class MemoryReviews(repository.Reviews):
    """The review queue in the store (copies in and out, as rows would be)."""

    def __init__(self, store: IdentityStore) -> None:
        self.store = store

    async def get(self, review_id: str) -> Review | None:
        """One review."""
        review = self.store.reviews.get(review_id)
        return copy.deepcopy(review) if review else None

    async def open_for(self, key: RecordKey) -> list[Review]:
        """The record's open reviews."""
        return [copy.deepcopy(r) for _, r in sorted(self.store.reviews.items())
                if r.key == key and r.status == "open"]

    async def in_scope(self, scope: Sequence[str], *, status: str | None, after: str | None,
                       limit: int) -> list[Review]:
        """Reviews of records in villages within the scope codes, ordered by id."""
        found = [copy.deepcopy(r) for review_id, r in sorted(self.store.reviews.items())
                 if any(r.village_code == code or r.village_code.startswith(code + ".") for code in scope)
                 and (status is None or r.status == status) and (after is None or review_id > after)]
        return found[:limit]

    async def add(self, review: Review) -> None:
        """Queue a review."""
        self.store.reviews[review.review_id] = copy.deepcopy(review)

    async def save(self, review: Review) -> None:
        """Store the review."""
        self.store.reviews[review.review_id] = copy.deepcopy(review)


def _pair(one: RecordKey, other: RecordKey) -> tuple[str, str]:
    a, b = sorted((str(one), str(other)))
    return a, b


class MemoryDecisions(repository.Decisions):
    """Decisions and verified non-links in the store."""

    def __init__(self, store: IdentityStore) -> None:
        self.store = store

    async def add(self, decision: Decision) -> int:
        """Store a decision; its id (from 1)."""
        self.store.decisions.append(decision)
        return len(self.store.decisions)

    async def add_non_links(self, one: Iterable[RecordKey], others: Iterable[RecordKey], decision_id: int) -> None:
        """Every record of `one` is another child than every record of `others`."""
        others = list(others)
        for pair in sorted({_pair(a, b) for a in one for b in others if a != b}):
            self.store.non_links.setdefault(pair, decision_id)

    async def separated(self, one: Sequence[RecordKey], others: Sequence[RecordKey]) -> bool:
        """Whether a verified non-link stands between any record of `one` and any of `others`."""
        return any(_pair(a, b) in self.store.non_links for a in one for b in others if a != b)

    async def non_linked(self, key: RecordKey) -> set[RecordKey]:
        """Records a reviewer decided are another child than this one."""
        text = str(key)
        return {RecordKey.parse(b if a == text else a) for a, b in self.store.non_links if text in (a, b)}


class MemoryMerges(repository.Merges):
    """Merges in the store."""

    def __init__(self, store: IdentityStore) -> None:
        self.store = store

    async def add(self, merge: Merge) -> None:
        """Store a merge."""
        self.store.merges[merge.merge_id] = copy.deepcopy(merge)

    async def in_force_retiring(self, person_id: str) -> Merge | None:
        """The latest merge in force that retired this person, if any."""
        found = [m for m in self.store.merges.values() if m.retired_person_id == person_id and m.unmerged_at is None]
        return copy.deepcopy(max(found, key=lambda m: m.merged_at)) if found else None

    async def save(self, merge: Merge) -> None:
        """Store a merge undone."""
        self.store.merges[merge.merge_id] = copy.deepcopy(merge)


class FakeIdentityUnitOfWork(InMemoryUnitOfWork, IdentityUnitOfWork):
    """Identity's unit of work in memory; `store` is what was committed (and what the open transaction changed)."""

    matcher: MemoryMatcher

    def __init__(self, model: MatchModel | None = None, thresholds: Thresholds | None = None) -> None:
        super().__init__()
        model = model or MatchModel.default()
        self.store = IdentityStore()
        self.matcher = MemoryMatcher(self.store, model, thresholds or Thresholds(model.auto_link, model.review))
        self._snapshot = copy.deepcopy(self.store)
        self._bind()

    @classmethod
    def restarted(cls, store: IdentityStore, model: MatchModel | None = None,
                  thresholds: Thresholds | None = None) -> FakeIdentityUnitOfWork:
        """A unit of work over what `store` holds, as a service restarted with this model sees it (index rebuilt)."""
        uow = cls(model, thresholds)
        uow.store = uow._snapshot = store
        uow._bind()
        for record, version in store.records.values():
            if record.details is not None:
                uow.matcher.add(record.key, version, record.details)
        return uow

    def _bind(self) -> None:
        self.matcher.store = self.store
        self.records = MemorySourceRecords(self)
        self.persons, self.reviews = MemoryPersons(self.store), MemoryReviews(self.store)
        self.decisions, self.merges = MemoryDecisions(self.store), MemoryMerges(self.store)

    def begin_repositories(self) -> None:
        """Snapshot the store: a rollback restores it."""
        self._snapshot = copy.deepcopy(self.store)

    def rollback_repositories(self) -> None:
        """Restore the store to the snapshot (the index keeps the details, dropped as no longer current)."""
        self.store = self._snapshot
        self._bind()
