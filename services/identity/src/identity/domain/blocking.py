"""Blocking: only records that share a key are compared, so the keys must keep true pairs together.

Each key tolerates a different error: the NIK split in three overlapping parts survives a typo in any one part;
a name token with the birth year survives a changed village, with the village a wrong birth date, with the day
and month of birth a wrong year and a changed village together; the mother's
name, the family card and the full birth date survive a child's name written quite differently. Blocks larger
than `MAX_BLOCK` (a very common token in a big village) are skipped: their pairs are kept together by the more
specific keys.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Iterable, Sequence
from functools import cache

import numpy as np

from identity.domain.records import Record
from identity.domain.table import IntArray

MAX_BLOCK = 150
MIN_TOKEN_LENGTH = 2
COMMON_SHARE = 0.01  # a token in more than this share of names (or mothers' names) is common


def blocking_keys(record: Record, common: Container[str] = frozenset()) -> list[str]:
    """The blocking keys of one record; `common` tokens (Muhammad, Siti, Nur...) key only a name of one token."""
    keys: list[str] = []
    if record.nik is not None:
        nik = record.nik.value
        keys += [f"n{nik[:12]}", f"d{nik[6:]}"]
    if record.kk:
        keys.append(f"k{record.kk}")
    birth = record.effective_birth
    village = record.village or ""
    kecamatan = village[:6]
    tokens = _informative(record.name.tokens, common)
    whole = " ".join(sorted(record.name.tokens))
    if whole:
        keys.append(f"s{whole}:{village[:4]}")
    if birth is not None:
        keys.append(f"w{whole}:{birth.year}")
        keys += [f"y{token}:{birth.year}:{kecamatan}" for token in record.name.tokens]
        if birth.day:
            keys += [f"t{token}:{birth.month}-{birth.day}" for token in tokens]
            if kecamatan:
                keys.append(f"b{birth.year}-{birth.month}-{birth.day}:{kecamatan}")
    if village:
        keys += [f"v{token}:{village}:{record.effective_sex}" for token in tokens]
        keys += [f"m{token}:{village}" for token in _informative(record.mother.tokens, common)]
    return keys


def common_tokens(records: Sequence[Record]) -> frozenset[str]:
    """Tokens found in more than COMMON_SHARE of the records' names or mothers' names."""
    counts = Counter(token for record in records for token in {*record.name.tokens, *record.mother.tokens})
    return frozenset(token for token, count in counts.items() if count > COMMON_SHARE * len(records))


def _informative(tokens: tuple[str, ...], common: Container[str]) -> set[str]:
    kept = {token for token in tokens if len(token) >= MIN_TOKEN_LENGTH and token not in common}
    return kept or set(tokens[:1])


def candidate_pairs(keys_of: Sequence[Iterable[str]], max_block: int = MAX_BLOCK) -> tuple[IntArray, IntArray]:
    """Distinct row pairs (left < right) sharing at least one key, blocks above max_block skipped, in the order
    of their codes (left * rows + right). Vectorised: the keys are interned, the rows sorted by key (stably, so
    each block's rows stay in row order), and the blocks of one size paired in one step."""
    size = len(keys_of)
    ids: dict[str, int] = {}
    key_ids: list[int] = []
    counts: list[int] = []
    for row_keys in keys_of:
        before = len(key_ids)
        key_ids += [ids.setdefault(key, len(ids)) for key in row_keys]
        counts.append(len(key_ids) - before)
    if not key_ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    keys = np.array(key_ids, dtype=np.int64)
    rows = np.repeat(np.arange(size, dtype=np.int64), counts)
    order = np.argsort(keys, kind="stable")
    keys, rows = keys[order], rows[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    sizes = np.diff(np.append(starts, len(keys)))
    lefts, rights = [], []
    for block_size in np.unique(sizes[(sizes >= 2) & (sizes <= max_block)]).tolist():
        members = rows[starts[sizes == block_size][:, None] + np.arange(block_size)]
        upper, lower = _pair_positions(block_size)
        lefts.append(members[:, upper].ravel())
        rights.append(members[:, lower].ravel())
    if not lefts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    codes = np.concatenate(lefts) * size + np.concatenate(rights)
    codes.sort()  # then drop repeats: faster than np.unique's hashing on millions of codes
    distinct = np.empty(len(codes), dtype=np.bool_)
    distinct[0] = True
    np.not_equal(codes[1:], codes[:-1], out=distinct[1:])
    codes = codes[distinct]
    return codes // size, codes % size


@cache
def _pair_positions(size: int) -> tuple[IntArray, IntArray]:
    upper, lower = np.triu_indices(size, 1)
    return upper.astype(np.int64), lower.astype(np.int64)
