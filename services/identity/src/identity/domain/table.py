"""Records held column by column in numpy arrays, so that thousands of pairs compare in one vectorised step.

The batch builds one table from all its records; the real-time index appends to one as persons arrive. Tokens
are interned as integer ids in a `Vocabulary`, which also counts them: a token's weight is its information in
bits, -log2 of its relative frequency, so Siti, Nur or Sri weigh little and rare given names a lot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from identity.domain.names import ParsedName
from identity.domain.records import BirthDate, Record

MAX_TOKENS = 4
_SEX_CODES = {"male": 1, "female": 2}
IntArray = npt.NDArray[np.int64]


class Vocabulary:
    """Interned canonical tokens and names, with token counts for frequency weights."""

    __slots__ = ("_counts", "_ids", "_lengths", "_total", "names")

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._counts = np.zeros(1024, dtype=np.int64)
        self._lengths = np.zeros(1024, dtype=np.int16)
        self._total = 0
        self.names: list[str] = []  # by id: the token (or whole name key) itself

    def __len__(self) -> int:
        return len(self.names)

    def id_of(self, text: str) -> int:
        """The id of a token or name key, interning it if new."""
        found = self._ids.get(text)
        if found is not None:
            return found
        new = len(self.names)
        self._ids[text] = new
        self.names.append(text)
        if new + 1 >= len(self._counts):  # the last slot stays unused: index -1 (padding) reads a zero count
            self._counts = np.concatenate([self._counts, np.zeros_like(self._counts)])
            self._lengths = np.concatenate([self._lengths, np.zeros_like(self._lengths)])
        self._lengths[new] = len(text)
        return new

    def lengths(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int16]:
        """The number of letters of each token (or name) id."""
        found: npt.NDArray[np.int16] = self._lengths[ids]
        return found

    def count(self, token_ids: Iterable[int]) -> None:
        """Count one name's tokens."""
        for token_id in token_ids:
            self._counts[token_id] += 1
            self._total += 1

    def uncount(self, token_ids: Iterable[int]) -> None:
        """Take back the counts of a forgotten row's tokens (the strings stay interned)."""
        for token_id in token_ids:
            self._counts[token_id] -= 1
            self._total -= 1

    def weights(self, token_ids: npt.NDArray[np.int32]) -> npt.NDArray[np.float32]:
        """Bits of information of each token id; padding (-1) weighs 0, an unseen token as seen once."""
        counts = self._counts[token_ids].astype(np.float32)
        bits = np.maximum(np.log2(np.float32(self._total + 1.0) / (counts + 1.0)), np.float32(1.0))
        return np.where(token_ids >= 0, bits, np.float32(0.0)).astype(np.float32)

    def rare_bits(self, max_count: int) -> float:
        """The bits of a token seen `max_count` times: tokens with at least these bits are that rare."""
        return float(np.log2(np.float32(self._total + 1.0) / np.float32(max_count + 1.0)))

    def weight(self, token: str) -> float:
        """Bits of information of one token."""
        return float(self.weights(np.array([self._ids.get(token, -1)], dtype=np.int32))[0])


class RecordTable:
    """Columns of records: token ids, sex, birth parts, NIK, KK, mother, village; rows grow by doubling."""

    __slots__ = (
        "day",
        "kk",
        "month",
        "mother",
        "mother_key",
        "mother_sorted",
        "name_key",
        "name_sorted",
        "nik",
        "nik_childs",
        "nik_dated",
        "nik_fits",
        "sex",
        "size",
        "tokens",
        "village",
        "vocabulary",
        "year",
    )

    def __init__(self, vocabulary: Vocabulary, capacity: int = 1024) -> None:
        self.vocabulary = vocabulary
        self.size = 0
        self.tokens = np.full((capacity, MAX_TOKENS), -1, dtype=np.int32)
        self.mother = np.full((capacity, MAX_TOKENS), -1, dtype=np.int32)
        self.name_key = np.full(capacity, -1, dtype=np.int32)
        self.mother_key = np.full(capacity, -1, dtype=np.int32)
        self.name_sorted = np.full(capacity, -1, dtype=np.int32)  # the name with its tokens in alphabetical order
        self.mother_sorted = np.full(capacity, -1, dtype=np.int32)
        self.sex = np.zeros(capacity, dtype=np.int8)
        self.year = np.zeros(capacity, dtype=np.int16)
        self.month = np.zeros(capacity, dtype=np.int8)
        self.day = np.zeros(capacity, dtype=np.int8)
        self.nik = np.zeros(capacity, dtype=np.int64)
        self.nik_childs = np.zeros(capacity, dtype=np.bool_)
        self.nik_dated = np.zeros(capacity, dtype=np.bool_)  # the record's own birth date agrees with its NIK's
        self.nik_fits = np.zeros(capacity, dtype=np.bool_)  # the child's own NIK, its date and sex the record's
        self.kk = np.zeros(capacity, dtype=np.int64)
        self.village = np.zeros(capacity, dtype=np.int64)

    @classmethod
    def of(cls, records: Sequence[Record], vocabulary: Vocabulary | None = None, *, count: bool = True) -> RecordTable:
        """A table of the records, counting their name tokens into the vocabulary."""
        table = cls(vocabulary or Vocabulary(), max(len(records), 1))
        for record in records:
            table.append(record, count=count)
        return table

    def append(self, record: Record, *, count: bool = True) -> int:
        """Add a record as the next row and return that row; `count=False` for a probe, whose tokens must not
        change the frequencies."""
        if self.size == len(self.sex):
            self._grow()
        row = self.size
        self.size += 1
        token_ids = self._name_ids(record.name, row, self.tokens, (self.name_key, self.name_sorted))
        token_ids += self._name_ids(record.mother, row, self.mother, (self.mother_key, self.mother_sorted))
        if count:
            self.vocabulary.count(token_ids)
        self.sex[row] = _SEX_CODES.get(record.effective_sex or "", 0)
        birth = record.effective_birth  # every column is written: a probe row is reused
        self.year[row], self.month[row], self.day[row] = (birth.year, birth.month, birth.day) if birth else (0, 0, 0)
        self.nik[row] = int(record.nik.value) if record.nik is not None else 0
        self.nik_childs[row] = record.nik is not None and record.nik_is_childs
        self.nik_dated[row] = record.nik is not None and _agrees(record.birth, record.nik.birth)
        self.nik_fits[row] = (
            record.nik is not None
            and record.nik_is_childs
            and (record.birth is None or _agrees(record.birth, record.nik.birth))
            and (record.sex is None or record.sex == record.nik.sex)
        )
        self.kk[row] = int(record.kk) if record.kk else 0
        self.village[row] = int(record.village) if record.village else 0
        return row

    def _name_ids(
        self,
        name: ParsedName,
        row: int,
        tokens: npt.NDArray[np.int32],
        keys: tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]],
    ) -> list[int]:
        ids = [self.vocabulary.id_of(token) for token in name.tokens[:MAX_TOKENS]]
        tokens[row, : len(ids)] = ids
        tokens[row, len(ids) :] = -1
        written, ordered = keys
        written[row] = self.vocabulary.id_of(name.key) if name.tokens else -1
        ordered[row] = self.vocabulary.id_of(" ".join(sorted(name.tokens))) if name.tokens else -1
        return ids

    def blank(self, row: int) -> None:
        """Overwrite a counted row (`append`) with missing values, taking its tokens' counts back: nothing of its
        record stays in the columns and the frequencies are as if it had never been added."""
        self.vocabulary.uncount(int(i) for i in (*self.tokens[row], *self.mother[row]) if i >= 0)
        for name in _COLUMNS:
            column = getattr(self, name)
            column[row] = _missing(column)

    def _grow(self) -> None:
        for name in _COLUMNS:
            column = getattr(self, name)
            grown = np.full((len(column) * 2, *column.shape[1:]), _missing(column), dtype=column.dtype)
            grown[: len(column)] = column
            setattr(self, name, grown)


_COLUMNS = (
    "tokens",
    "mother",
    "name_key",
    "mother_key",
    "name_sorted",
    "mother_sorted",
    "sex",
    "year",
    "month",
    "day",
    "nik",
    "nik_childs",
    "nik_dated",
    "nik_fits",
    "kk",
    "village",
)


def _missing(column: npt.NDArray[np.generic]) -> int:
    """A column's missing value: -1 for token and name ids (padding), 0 for the rest."""
    return -1 if column.dtype == np.int32 else 0


def _agrees(birth: BirthDate | None, encoded: BirthDate) -> bool:
    """Whether a record's own birth date agrees with a NIK's, to the precision the record states."""
    if birth is None or birth.year != encoded.year:
        return False
    return (not birth.month or birth.month == encoded.month) and (not birth.day or birth.day == encoded.day)
