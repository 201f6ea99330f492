"""A person: one child behind many source records, and the merges reviewers make and undo.

Rules kept here: a person never holds two different own NIKs; a retired person (merged into another) takes part in
nothing until its merge is undone; a merge marks every record involved as placed by a reviewer, and undoing it
moves back what the merge moved and clears what only the merge had marked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from identity.domain.errors import Conflict, Refused
from identity.domain.source_records import RecordKey, SourceRecord


@dataclass
class Merge:
    """A merge of `retired_person_id` into `surviving_person_id`, in force until undone."""

    merge_id: str
    surviving_person_id: str
    retired_person_id: str
    moved: tuple[RecordKey, ...]
    verified_by_merge: tuple[RecordKey, ...]
    merged_by: str
    merged_at: dt.datetime
    unmerged_by: str | None = None
    unmerged_at: dt.datetime | None = None

    def undo(self, by: str, at: dt.datetime) -> None:
        """Mark the merge undone."""
        if self.unmerged_at is not None:
            raise Conflict("person_id", "this merge was undone already")
        self.unmerged_by, self.unmerged_at = by, at


@dataclass
class Person:
    """A person and the source records linked to it now (ordered by key)."""

    person_id: str
    created_at: dt.datetime
    records: list[SourceRecord] = field(default_factory=list)
    retired_into: str | None = None

    @property
    def keys(self) -> list[RecordKey]:
        """The keys of the person's records."""
        return [r.key for r in self.records]

    def must_be_active(self, field: str) -> None:
        """Conflict when a merge retired this person."""
        if self.retired_into is not None:
            raise Conflict(field, f"this person was merged into {self.retired_into}")

    def link_verified(self, record: SourceRecord, at: dt.datetime) -> None:
        """A reviewer decided the record is this person: it joins, and every record here is marked placed."""
        self._refuse_other_nik([record], "person_id", "the record and this person hold two different NIKs")
        if record.key not in self.keys:
            self._add(record.moved_to(self.person_id, at))
        self.records = [replace(r, verified=True) for r in self.records]

    def receive(self, record: SourceRecord, at: dt.datetime) -> None:
        """The record is linked here (not as a reviewer's placement)."""
        self._add(record.moved_to(self.person_id, at, verified=False))

    def merge_into(self, survivor: Person, *, merge_id: str, by: str, at: dt.datetime) -> Merge:
        """This person is the survivor's child too: its records move there, every record involved is marked placed,
        and this person is retired."""
        self.must_be_active("person_id")
        survivor.must_be_active("into_person_id")
        survivor._refuse_other_nik(self.records, "into_person_id", "the two persons hold two different NIKs")
        flagged = tuple(r.key for r in (*self.records, *survivor.records) if not r.verified)
        moved = tuple(self.keys)
        for record in self.records:
            survivor._add(record.moved_to(survivor.person_id, at, verified=True))
        survivor.records = [replace(r, verified=True) for r in survivor.records]
        self.records, self.retired_into = [], survivor.person_id
        return Merge(merge_id, survivor.person_id, self.person_id, moved, flagged, by, at)

    def unmerge_from(self, survivor: Person, merge: Merge, at: dt.datetime) -> list[SourceRecord]:
        """Undo `merge`, which retired this person into `survivor`: what it moved and the survivor still holds
        comes back, and what only the merge had marked is no longer placed. The records moved back, as now."""
        if merge.retired_person_id != self.person_id or merge.surviving_person_id != survivor.person_id:
            raise Conflict("person_id", "this person is not merged into another")
        if survivor.retired_into is not None:
            raise Conflict("person_id", f"the person it was merged into was merged since: unmerge "
                                        f"{survivor.person_id} first")
        moved = set(merge.moved)
        back = [r for r in survivor.records if r.key in moved]
        survivor.records = [r for r in survivor.records if r.key not in moved]
        for record in back:
            self._add(record.moved_to(self.person_id, at))
        unmarked = set(merge.verified_by_merge)
        for person in (self, survivor):
            person.records = [replace(r, verified=False) if r.key in unmarked else r for r in person.records]
        self.retired_into = None
        return [r for r in self.records if r.key in moved]

    def _add(self, record: SourceRecord) -> None:
        self.records = sorted([r for r in self.records if r.key != record.key] + [record],
                              key=lambda r: (r.key.source_system, r.key.source_record_id))

    def _refuse_other_nik(self, incoming: list[SourceRecord], field: str, reason: str) -> None:
        ours = {nik for r in self.records if (nik := r.own_nik())}
        theirs = {nik for r in incoming if r.key not in self.keys and (nik := r.own_nik())}
        if ours and theirs - ours:
            raise Conflict(field, reason)


def refuse_merge_into_itself(person_id: str, into_person_id: str) -> None:
    """A merge needs two persons."""
    if person_id == into_person_id:
        raise Refused("into_person_id", "a person cannot be merged into itself")

