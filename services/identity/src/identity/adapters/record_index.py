"""The matcher of the real-time path: the domain's in-memory `PersonIndex` over every record's details, checked
against the database on every use.

How it stays correct, with one replica or many:
- The index is a cache of record *details*, never of links. Each indexed row is labelled with the record's
  `feature_version` (a fresh token whenever its details change), not with a person. Candidates come back per
  record version and are resolved to persons by reading `source_records` in the caller's transaction; a version
  that is no longer current (details changed since, or written by a transaction that rolled back) is dropped there.
  Merges, unmerges and reviewers' decisions only change the database, so no replica's index can go stale on them.
- Every transaction that writes source records first takes the link lock (`links.lock`: an update of the single
  `link_clock` row, held until commit) and stamps the records it writes with the clock value. Linking is therefore
  serialised across every replica (two records of one child arriving at two replicas at once cannot both become
  new persons), and clock values grow in commit order. `prepare`, called under the lock, reads every committed
  row with `feature_seq` above the last one it saw (on its own connection: committed rows only), so the index holds
  every record committed anywhere before the match. Records this process writes are added at once, so later
  events of the same batch see them.
- At start the index is empty and the first `prepare` loads every record from the database: the rebuild. A replica
  that restarts, or takes over partitions in a rebalance, needs nothing else.
- Superseded and erased details are forgotten (`PersonIndex.forget`: the row blanked, never a candidate again), on
  every replica: the index knows each record's current version, and `settle` forgets every other. A transaction of
  this process settles what it wrote when it commits (details it wrote and then rolled back are forgotten instead);
  `prepare` also reads erased rows (no version) and settles every row it reads, so other replicas' updates and
  erasures reach this index at its next use. A version forgotten by mistake (a commit whose outcome was unknown) is
  read again by `prepare`, which reads every row above the last clock value it saw.
Speed is given up for this: one linking transaction at a time across the deployment, each a few milliseconds of
matching. What a forgotten row leaves, linked to no record: its blank row (the table keeps one per version until the
next restart), the salted hashes of its blocking keys until the blocks next fold, and the token and name strings it
interned in the index's shared vocabulary, which are not removed (no reference count: a probe interns strings too)
until the next restart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters.orm import source_records
from identity.domain.index import MAX_CANDIDATES, PersonIndex
from identity.domain.index import Candidate as PairCandidate
from identity.domain.model import MatchModel
from identity.domain.records import Record
from identity.domain.source_records import (
    Candidate,
    Contribution,
    Details,
    RecordKey,
    RecordMatch,
    Thresholds,
    as_record,
)
from simpul_platform.database import Database
from simpul_platform.field_encryption import row_key, unseal

# Candidates are scored per record (one person may hold several), so ask for more than the persons wanted.
RECORDS_PER_QUERY = 5 * MAX_CANDIDATES
LOAD_CHUNK = 5000
# Encrypted, each token bound to its column and its record's row (source system and id).
SEALED_COLUMNS = ("full_name", "birth_date", "nik", "kk_number", "mother_name")
_DETAIL_COLUMNS = ("full_name", "sex", "village_code", "birth_date", "birth_date_precision", "nik", "kk_number",
                   "mother_name")


def details_of(row: Any) -> Details:
    """The details stored in a `source_records` row (the birth date is kept as ISO text, encrypted)."""
    key = row_key(row.source_system, row.source_record_id)
    values = {name: getattr(row, name) for name in _DETAIL_COLUMNS}
    values |= {name: unseal(key, values[name]) for name in SEALED_COLUMNS}
    birth = values["birth_date"]
    return Details(**values | {"birth_date": dt.date.fromisoformat(birth) if birth else None})


async def stored_records(session: AsyncSession) -> list[Record]:
    """Every source record's current details, as the domain's records (for estimating the model offline)."""
    query = select(source_records).where(source_records.c.feature_version.is_not(None))
    return [as_record(RecordKey(row.source_system, row.source_record_id), details_of(row))
            for rows in (await session.execute(query)).partitions(LOAD_CHUNK) for row in rows]


@dataclass
class IndexedMatcher:
    """`Matcher` over the domain's `PersonIndex`, caught up from the database (see the module docstring)."""

    database: Database
    model: MatchModel
    thresholds: Thresholds
    _index: PersonIndex | None = None
    _seen_seq: int = -1
    _labels: dict[str, RecordKey] = field(default_factory=dict)  # indexed version -> its record
    _current: dict[RecordKey, str] = field(default_factory=dict)  # record -> its committed version indexed here
    _catching_up: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def prepare(self) -> None:
        """Index every record committed since the last call (all of them the first time), forgetting the versions
        they superseded and the details of records erased since."""
        async with self._catching_up:
            c = source_records.c
            query = select(source_records).where(c.feature_seq > self._seen_seq).order_by(c.feature_seq)
            if self._index is None:  # the rebuild: an erased record has nothing to forget yet
                query = query.where(c.feature_version.is_not(None))
                self._index = PersonIndex(self.model)  # kept as loaded so far should a chunk fail
            async with self.database.session() as session:
                for rows in (await session.execute(query)).partitions(LOAD_CHUNK):
                    self._load(self._index, rows)

    def _load(self, index: PersonIndex, rows: Sequence[Row[Any]]) -> None:
        fresh = [row for row in rows if row.feature_version is not None and row.feature_version not in self._labels]
        keys = [RecordKey(row.source_system, row.source_record_id) for row in fresh]
        index.add_many([as_record(key, details_of(row)) for key, row in zip(keys, fresh, strict=True)],
                       [row.feature_version for row in fresh])
        self._labels.update((row.feature_version, key) for key, row in zip(keys, fresh, strict=True))
        for row in rows:
            self._replace(RecordKey(row.source_system, row.source_record_id), row.feature_version)
        if rows:
            self._seen_seq = max(self._seen_seq, *(int(row.feature_seq) for row in rows))

    def match_rate(self) -> float | None:
        """The indexed records' match rate that replaces the model's prior (None: not settled yet, or not loaded)."""
        return self._index.match_rate() if self._index is not None else None

    def add(self, key: RecordKey, version: str, details: Details) -> None:
        """Index a record's new details (the caller's transaction wrote them with `version`)."""
        if self._index is None:
            raise RuntimeError("prepare() the matcher before adding records")
        self._index.add(as_record(key, details), version)
        self._labels[version] = key

    def settle(self, key: RecordKey, version: str | None, seq: int) -> None:
        """A transaction of this process committed the record's `version` (None: erased) at clock value `seq`:
        forget the version it superseded. When `prepare` has read past `seq`, the record's row as read there is
        the truth, and only this version may be stale."""
        if seq <= self._seen_seq:
            if self._current.get(key) != version:
                self.forget(version)
        else:
            self._replace(key, version)

    def forget(self, version: str | None) -> None:
        """Blank a version's details in the index (unknown versions and None are ignored)."""
        if version is not None and self._labels.pop(version, None) is not None and self._index is not None:
            self._index.forget(version)

    def _replace(self, key: RecordKey, version: str | None) -> None:
        """The record's committed details are now `version` (None: erased): forget any other indexed here."""
        held = self._current.pop(key, None)
        if held != version:
            self.forget(held)
        if version is not None:
            self._current[key] = version

    async def candidates(self, session: AsyncSession, key: RecordKey, details: Details) -> list[Candidate]:
        """The persons the record may be, through records other than itself, most likely first."""
        return by_person((person, pair) for _, person, pair in await self._pairs(session, key, details))

    async def matches(self, session: AsyncSession, key: RecordKey, details: Details) -> list[RecordMatch]:
        """The other records the record may be the same child as, with their persons now, most likely first."""
        return [record_match(other, person, pair) for other, person, pair in await self._pairs(session, key, details)]

    async def _pairs(self, session: AsyncSession, key: RecordKey,
                     details: Details) -> list[tuple[RecordKey, str, PairCandidate]]:
        if self._index is None:
            raise RuntimeError("prepare() the matcher before matching")
        pairs = [pair for pair in self._index.candidates(as_record(key, details), RECORDS_PER_QUERY)
                 if self._labels.get(pair.person_id) not in (None, key)]
        current = await _current_persons(session, [pair.person_id for pair in pairs])
        return [(self._labels[pair.person_id], current[pair.person_id], pair) for pair in pairs
                if pair.person_id in current]


async def _current_persons(session: AsyncSession, versions: list[str]) -> dict[str, str]:
    """version -> person for the versions that are still their record's current details."""
    if not versions:
        return {}
    c = source_records.c
    rows = await session.execute(select(c.feature_version, c.person_id).where(c.feature_version.in_(versions)))
    return {version: person for version, person in rows.tuples()}


def record_match(key: RecordKey, person_id: str, pair: PairCandidate) -> RecordMatch:
    """One record pair: forbidden when a rule vetoes it or the model finds it strongly two children, unless the
    pair is certain (as `PersonIndex.decide` rules)."""
    return RecordMatch(key, person_id, pair.probability, (pair.vetoed or pair.against) and not pair.certain,
                       pair.certain)


def by_person(pairs: Iterable[tuple[str, PairCandidate]]) -> list[Candidate]:
    """One candidate per person: its best pair's score and reasons; vetoed when any of its pairs is vetoed or
    strongly against and none is certain (as `PersonIndex.decide` rules for a person of several records)."""
    best: dict[str, PairCandidate] = {}
    vetoed: set[str] = set()
    certain: set[str] = set()
    for person, pair in pairs:
        if pair.vetoed or pair.against:
            vetoed.add(person)
        if pair.certain:
            certain.add(person)
        if person not in best or pair.probability > best[person].probability:
            best[person] = pair
    ranked = sorted(best.items(), key=lambda item: -item[1].probability)
    return [Candidate(person, pair.probability, person in vetoed - certain,
                      tuple(Contribution(f, level, weight) for f, level, weight in pair.contributions),
                      person in certain, person in vetoed)
            for person, pair in ranked[:MAX_CANDIDATES]]
