"""The real-time path: an in-memory index of persons' records, matching one incoming record in milliseconds.

Records are held column-wise (`RecordTable`); blocking keys are hashed to integers and kept in sorted numpy
arrays, with a small dict for recent additions that is folded into the arrays as it grows, so a million persons
with a dozen keys each cost about 12 bytes per key. A probe is compared with every record sharing one of its
keys (blocks larger than MAX_BLOCK skipped, as in the batch), scored with the stored model and the match rate of
the indexed records (counted as they are added, as batch dedupe counts it over its input), and the candidates
come back per person with each field's contribution so a reviewer sees why.

`forget` blanks a label's rows (a record's superseded or erased details): its columns hold only missing values,
its NIK and token counts are taken back, and it is never a candidate again. Its blocking-key hashes stay in the
blocks until their next fold drops them; the token and name strings it interned stay in the shared `Vocabulary`
(linked to no row any more). The rows themselves are not reused: the table keeps growing by one row per version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from identity.domain.blocking import MAX_BLOCK, blocking_keys
from identity.domain.clustering import LINKED, NEW, REVIEW, against, certain, vetoes
from identity.domain.comparisons import Pairs, compare, evidence, fitting_nik, nik_conflicts
from identity.domain.model import MatchModel, pair_match_rate, probability
from identity.domain.records import Record
from identity.domain.table import IntArray, RecordTable, Vocabulary

MAX_CANDIDATES = 10
_FOLD_FROM = 200_000  # recent keys kept in the dict before they are folded into the sorted arrays


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person the probe may be: match probability of the best record pair, whether a rule forbids the link,
    (field, level, weight in bits) of that pair, and whether some pair with the person is certain (one fitting
    NIK, or agreement on everything: see `clustering.certain`), which no rule forbids, and whether some pair is
    strongly against (`clustering.against`): a person with another record alike to the probe is then not linked
    to it, as batch clustering keeps such groups apart."""

    person_id: str
    probability: float
    vetoed: bool
    contributions: tuple[tuple[str, str, float], ...]
    certain: bool = False
    against: bool = False


class _Blocks:
    """Key hash -> rows: sorted arrays plus a dict of recent additions."""

    __slots__ = ("_keys", "_live", "_recent", "_recent_size", "_rows")

    def __init__(self, live: Callable[[npt.NDArray[np.int32]], npt.NDArray[np.bool_]]) -> None:
        self._live = live  # which rows are still held: a fold drops the keys of forgotten ones
        self._keys = np.zeros(0, dtype=np.int64)
        self._rows = np.zeros(0, dtype=np.int32)
        self._recent: dict[int, list[int]] = {}
        self._recent_size = 0

    def add(self, keys: Sequence[str], row: int) -> None:
        for key in keys:
            self._recent.setdefault(hash(key), []).append(row)
        self._recent_size += len(keys)
        if self._recent_size > max(_FOLD_FROM, len(self._keys) // 4):
            self.fold()

    def add_many(self, keys: Sequence[Sequence[str]], first_row: int) -> None:
        hashes = np.fromiter((hash(key) for row_keys in keys for key in row_keys), dtype=np.int64)
        rows = np.repeat(
            np.arange(first_row, first_row + len(keys), dtype=np.int32), [len(row_keys) for row_keys in keys]
        )
        self._merge(hashes, rows)

    def fold(self) -> None:
        """Move the recent keys into the sorted arrays."""
        if not self._recent:
            return
        hashes = np.fromiter((key for key, rows in self._recent.items() for _ in rows), dtype=np.int64)
        rows = np.fromiter((row for rows in self._recent.values() for row in rows), dtype=np.int32)
        self._recent, self._recent_size = {}, 0
        self._merge(hashes, rows)

    def _merge(self, hashes: IntArray, rows: npt.NDArray[np.int32]) -> None:
        keys, values = np.concatenate([self._keys, hashes]), np.concatenate([self._rows, rows])
        held = self._live(values)
        keys, values = keys[held], values[held]
        order = np.argsort(keys, kind="stable")
        self._keys, self._rows = keys[order], values[order]

    def rows(self, keys: Sequence[str]) -> IntArray:
        """Rows sharing a key with these keys, blocks above MAX_BLOCK skipped."""
        hashes = np.array([hash(key) for key in keys], dtype=np.int64)
        starts = np.searchsorted(self._keys, hashes, side="left")
        stops = np.searchsorted(self._keys, hashes, side="right")
        found: list[npt.NDArray[np.int32]] = []
        for key, start, stop in zip(hashes.tolist(), starts.tolist(), stops.tolist(), strict=True):
            recent = self._recent.get(key, ())
            if 0 < stop - start + len(recent) <= MAX_BLOCK:
                found.append(self._rows[start:stop])
                if recent:
                    found.append(np.array(recent, dtype=np.int32))
        if not found:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(found)).astype(np.int64)

    @property
    def nbytes(self) -> int:
        return int(self._keys.nbytes + self._rows.nbytes)


class PersonIndex:
    """Persons' records, matched against one incoming record at a time."""

    def __init__(self, model: MatchModel, common: frozenset[str] = frozenset()) -> None:
        self.model = model
        self._common = common
        self._table = RecordTable(Vocabulary())
        self._probe = RecordTable(self._table.vocabulary, 1)
        self._blocks = _Blocks(self._held)
        self._person_ids: list[str] = []
        self._person_number: dict[str, int] = {}
        self._person_of_row = np.zeros(1024, dtype=np.int32)  # -1: the row was forgotten
        self._first_row = np.zeros(1024, dtype=np.int32)  # person number -> its first row
        self._more_rows: dict[int, list[int]] = {}  # person number -> its further rows (labels of several records)
        self._forgotten = 0
        self._own_niks: dict[int, int] = {}  # a child's own NIK -> records holding it
        self._same_nik_pairs = 0

    def __len__(self) -> int:
        """The records held (forgotten ones not counted)."""
        return self._table.size - self._forgotten

    def add(self, record: Record, person_id: str) -> None:
        """Index a record of a person (a new person or one already indexed)."""
        row = self._append(record, person_id)
        self._blocks.add(blocking_keys(record, self._common), row)

    def add_many(self, records: Sequence[Record], person_ids: Sequence[str]) -> None:
        """Index many records at once (loading the index): one sort instead of many small folds."""
        first = self._table.size
        for record, person_id in zip(records, person_ids, strict=True):
            self._append(record, person_id)
        self._blocks.add_many([blocking_keys(record, self._common) for record in records], first)

    def forget(self, person_id: str) -> None:
        """Blank every row of a label (missing values only, NIK and token counts taken back) so that it is never a
        candidate again, as if it had never been added; an unknown label is a no-op."""
        number = self._person_number.pop(person_id, None)
        if number is None:
            return
        self._person_ids[number] = ""
        for row in (int(self._first_row[number]), *self._more_rows.pop(number, ())):
            self._uncount_nik(row)
            self._table.blank(row)
            self._person_of_row[row] = -1
            self._forgotten += 1

    def candidates(self, record: Record, limit: int = MAX_CANDIDATES) -> list[Candidate]:
        """The persons this record may be, most likely first, at most `limit`."""
        rows = self._blocks.rows(blocking_keys(record, self._common))
        rows = rows[self._person_of_row[rows] >= 0]
        if not len(rows):
            return []
        self._probe.size = 0
        self._probe.append(record, count=False)
        pairs = Pairs(self._probe, np.zeros(len(rows), dtype=np.int64), self._table, rows)
        levels = compare(pairs)
        fitting = fitting_nik(pairs)
        weights = self.model.scores(levels, evidence(levels, fitting), prior=self.match_rate())
        chances = probability(weights)
        sure = certain(levels, fitting)
        vetoed = vetoes(levels, nik_conflicts(pairs), sure)
        strongly_against = against(weights, sure)
        persons = self._person_of_row[rows]
        best: dict[int, int] = {}
        level_weights = self.model.level_weights()
        certain_persons = set(persons[sure].tolist())
        vetoed_persons = set(persons[vetoed].tolist()) - certain_persons
        against_persons = set(persons[strongly_against].tolist()) - certain_persons
        for position in np.argsort(-chances, kind="stable").tolist():
            best.setdefault(int(persons[position]), position)
            if len(best) >= limit:
                break
        return [
            Candidate(
                self._person_ids[person],
                round(float(chances[position]), 6),
                person in vetoed_persons,
                tuple(self.model.contributions(levels[position], level_weights)),
                person in certain_persons,
                person in against_persons,
            )
            for person, position in best.items()
        ]

    def match_rate(self) -> float | None:
        """The chance that two indexed records are one child, as batch dedupe counts it over the same records
        (`model.pair_match_rate`); None (the model's prior) while too few records share a child's own NIK."""
        return pair_match_rate(self._same_nik_pairs, sum(self._own_niks.values()), len(self))

    def decide(self, candidates: Sequence[Candidate]) -> tuple[str, str | None]:
        """(decision, person): `linked` to the best candidate above the auto-link threshold that no rule forbids and
        no pair is strongly against, `review` when the best such candidate is in the review band, else `new`."""
        allowed = [candidate for candidate in candidates if not candidate.vetoed and not candidate.against]
        if allowed and allowed[0].probability >= self.model.auto_link:
            return LINKED, allowed[0].person_id
        if allowed and allowed[0].probability >= self.model.review:
            return REVIEW, allowed[0].person_id
        return NEW, None

    @property
    def nbytes(self) -> int:
        """Bytes held in numpy arrays (records and blocks); Python objects (vocabulary, ids) come on top."""
        table = sum(
            getattr(self._table, name).nbytes
            for name in RecordTable.__slots__
            if isinstance(getattr(self._table, name), np.ndarray)
        )
        return int(table + self._blocks.nbytes + self._person_of_row.nbytes + self._first_row.nbytes)

    def _held(self, rows: npt.NDArray[np.int32]) -> npt.NDArray[np.bool_]:
        held: npt.NDArray[np.bool_] = self._person_of_row[rows] >= 0
        return held

    def _append(self, record: Record, person_id: str) -> int:
        row = self._table.append(record)
        if self._table.nik_childs[row]:
            nik = int(self._table.nik[row])
            self._same_nik_pairs += self._own_niks.get(nik, 0)
            self._own_niks[nik] = self._own_niks.get(nik, 0) + 1
        number = self._person_number.get(person_id)
        if number is None:
            number = self._person_number[person_id] = len(self._person_ids)
            self._person_ids.append(person_id)
            self._first_row = _fitting(self._first_row, number)
            self._first_row[number] = row
        else:
            self._more_rows.setdefault(number, []).append(row)
        self._person_of_row = _fitting(self._person_of_row, row)
        self._person_of_row[row] = number
        return row

    def _uncount_nik(self, row: int) -> None:
        """Take a row's own NIK out of the counts `match_rate` uses, as if it had never been added."""
        if not self._table.nik_childs[row]:
            return
        nik = int(self._table.nik[row])
        holding = self._own_niks.pop(nik) - 1
        self._same_nik_pairs -= holding
        if holding:
            self._own_niks[nik] = holding


def _fitting(array: npt.NDArray[np.int32], position: int) -> npt.NDArray[np.int32]:
    """The array, doubled when `position` lies beyond its end."""
    return array if position < len(array) else np.concatenate([array, np.zeros_like(array)])
