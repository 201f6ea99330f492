"""The repositories an identity unit of work gives its handlers (over SQL in `sql_repository`, in memory in the fake).

Aggregates are loaded, changed by their own methods, and saved back; nothing here commits.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterable, Sequence

from identity.domain.decisions import Decision
from identity.domain.person import Merge, Person
from identity.domain.records import Record
from identity.domain.review import Review
from identity.domain.source_records import RecordKey, SourceRecord


class SourceRecords(abc.ABC):
    """Source records and their details."""

    @abc.abstractmethod
    async def get(self, key: RecordKey) -> SourceRecord | None:
        """The record with its details, or None when identity has not seen it."""

    @abc.abstractmethod
    async def save(self, record: SourceRecord) -> None:
        """Store a record's (new) details and its person; the matcher sees them from now on. A record this unit of
        work did not `get` is a new one."""

    @abc.abstractmethod
    async def erase(self, record: SourceRecord) -> None:
        """Store the erased record (no details, its person kept), out of the matching index; replace reviewers'
        reasons about it. A record this unit of work did not `get` is a new one."""

    @abc.abstractmethod
    async def note_recorded(self, key: RecordKey, recorded_at: dt.datetime) -> None:
        """The source recorded the details held (unchanged) again at `recorded_at`: keep that time only."""

    @abc.abstractmethod
    async def persons_of(self, keys: Iterable[RecordKey]) -> set[str]:
        """The persons these records are linked to now."""

    @abc.abstractmethod
    async def keys(self) -> list[RecordKey]:
        """The keys of every record whose details identity holds, ordered by key."""

    @abc.abstractmethod
    async def all_details(self) -> list[Record]:
        """Every record's current details, as the matching engine's records (for estimating the model)."""


class Persons(abc.ABC):
    """Persons with their records."""

    @abc.abstractmethod
    async def get(self, person_id: str) -> Person | None:
        """The person with its records, or None."""

    @abc.abstractmethod
    async def add(self, person: Person) -> None:
        """Store a new person (and link its records to it)."""

    @abc.abstractmethod
    async def save(self, person: Person) -> None:
        """Store a person's state and where its records are."""


class Reviews(abc.ABC):
    """The review queue."""

    @abc.abstractmethod
    async def get(self, review_id: str) -> Review | None:
        """One review, or None."""

    @abc.abstractmethod
    async def open_for(self, key: RecordKey) -> list[Review]:
        """The record's open reviews."""

    @abc.abstractmethod
    async def in_scope(self, scope: Sequence[str], *, status: str | None, after: str | None,
                       limit: int) -> list[Review]:
        """Reviews of records in villages within the scope codes, ordered by id."""

    @abc.abstractmethod
    async def add(self, review: Review) -> None:
        """Queue a review."""

    @abc.abstractmethod
    async def save(self, review: Review) -> None:
        """Store a review's status and decisions."""


class Decisions(abc.ABC):
    """Reviewers' decisions and the verified non-links they made."""

    @abc.abstractmethod
    async def add(self, decision: Decision) -> int:
        """Store a decision; its id."""

    @abc.abstractmethod
    async def add_non_links(self, one: Iterable[RecordKey], others: Iterable[RecordKey], decision_id: int) -> None:
        """Every record of `one` is another child than every record of `others`."""

    @abc.abstractmethod
    async def separated(self, one: Sequence[RecordKey], others: Sequence[RecordKey]) -> bool:
        """Whether a verified non-link stands between any record of `one` and any of `others`."""

    @abc.abstractmethod
    async def non_linked(self, key: RecordKey) -> set[RecordKey]:
        """Records a reviewer decided are another child than this one."""


class Merges(abc.ABC):
    """Merges of persons, in force or undone."""

    @abc.abstractmethod
    async def add(self, merge: Merge) -> None:
        """Store a merge."""

    @abc.abstractmethod
    async def in_force_retiring(self, person_id: str) -> Merge | None:
        """The merge in force that retired this person, if any."""

    @abc.abstractmethod
    async def save(self, merge: Merge) -> None:
        """Store a merge undone."""
