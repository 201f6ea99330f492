"""Field comparisons of record pairs, as discrete levels: the vocabulary of the Fellegi-Sunter model.

Every field has a level 0 meaning "missing on one side" (no evidence either way) and then levels from the most
different to the most alike. Pairs are compared in bulk: `compare` takes two tables and two equally long row
arrays and returns one row of levels per pair.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from identity.domain.table import IntArray, RecordTable, Vocabulary

NIK_DIGITS = 16
COMMON_NAME_BITS = 11.0  # information of a whole name below which an exact agreement is weak evidence
RARE_NAME_BITS = 17.0  # information of a whole name above which an exact agreement is strong evidence
SUBSET_MIN_BITS = 7.0  # information the shorter name must carry for "one name contains the other"
MOTHER_SUBSET_MIN_BITS = 6.0
SIMILAR_JW = 0.93
WEAK_JW = 0.85
TOKEN_JW = 0.92  # two tokens this alike are one token with a typo
TOKEN_MIN_LENGTH = 5
TYPO_RARITY_BITS = 3.0  # a differing token this much rarer than the others is a misspelling, not another name
TYPO_MAX_COUNT = 2  # ... if it is seen at most this often: a name in use (Rizka beside Rizki) is not a misspelling
TYPO_SAME_MIN_LENGTH = 6  # every token matched, by a typo only between tokens this long: the same name
PARALLEL_FROM = 20_000  # pairs: below this, threads cost more than they save


@dataclass(frozen=True)
class Field:
    """A compared field and the names of its levels, level 0 being `missing`."""

    name: str
    levels: tuple[str, ...]


FIELDS = (
    Field(
        "name",
        (
            "missing",
            "disjoint",
            "different",
            "weak",
            "similar",
            "misspelt",
            "contained",
            "subset",
            "same_common",
            "same",
            "same_rare",
        ),
    ),
    Field("sex", ("missing", "different", "same")),
    Field("birth", ("missing", "far", "different", "near", "year", "month", "swapped", "same")),
    Field("nik", ("missing", "different", "near", "serial", "same_not_childs", "same")),
    Field("mother", ("missing", "different", "similar", "same")),
    Field("kk", ("missing", "different", "same")),
    Field("village", ("missing", "different", "regency", "kecamatan", "same")),
)
FIELD_INDEX = {field.name: position for position, field in enumerate(FIELDS)}
Levels = npt.NDArray[np.int8]
FAR_YEARS = 2  # birth years this far apart are two children
# Evidence a pair carries beyond the model's score (see `evidence`).
NO_EVIDENCE, PARTIAL_EVIDENCE, IDENTIFYING_EVIDENCE = 0, 1, 2


def level(field_name: str, level_name: str) -> int:
    """The number of a field's level, by names: `level("name", "similar")`."""
    return FIELDS[FIELD_INDEX[field_name]].levels.index(level_name)


@dataclass(frozen=True)
class Pairs:
    """Row pairs to compare: `left` rows of the left table against `right` rows of the right table."""

    left_table: RecordTable
    left: IntArray
    right_table: RecordTable
    right: IntArray


def compare(pairs: Pairs) -> Levels:
    """Levels of every field for every pair, shape (pairs, fields)."""
    levels = np.zeros((len(pairs.left), len(FIELDS)), dtype=np.int8)
    if len(pairs.left) == 0:
        return levels
    levels[:, FIELD_INDEX["name"]] = _names(pairs, ("tokens", "name_key", "name_sorted"), _name_levels)
    levels[:, FIELD_INDEX["mother"]] = _names(pairs, ("mother", "mother_key", "mother_sorted"), _mother_levels)
    levels[:, FIELD_INDEX["sex"]] = _equal_levels(_column(pairs, "sex"))
    levels[:, FIELD_INDEX["kk"]] = _equal_levels(_column(pairs, "kk"))
    levels[:, FIELD_INDEX["birth"]] = _birth_levels(pairs)
    levels[:, FIELD_INDEX["nik"]] = _nik_levels(pairs)
    levels[:, FIELD_INDEX["village"]] = _village_levels(_column(pairs, "village"))
    return levels


def nik_conflicts(pairs: Pairs) -> npt.NDArray[np.bool_]:
    """Pairs whose records hold two different NIKs, each the child's own, that are not one NIK mistyped: more
    than two digits apart, or apart in the birth date they encode while each agrees with its record's own birth
    date (two children born on different days, not a typo)."""
    a, b = _column(pairs, "nik")
    own = pairs.left_table.nik_childs[pairs.left] & pairs.right_table.nik_childs[pairs.right]
    conflict: npt.NDArray[np.bool_] = own & (a > 0) & (b > 0) & (a != b)
    candidates = np.flatnonzero(conflict)
    near = digit_differences(a[candidates], b[candidates]) <= 2
    conflict[candidates[near & ~_dated_apart(pairs, a[candidates], b[candidates], candidates)]] = False
    return conflict


def fitting_nik(pairs: Pairs) -> npt.NDArray[np.bool_]:
    """Pairs holding one NIK, on each side the child's own and fitting its record: the birth date and sex it
    encodes agree with the record's own (where the record states them)."""
    a, b = _column(pairs, "nik")
    fits = pairs.left_table.nik_fits[pairs.left] & pairs.right_table.nik_fits[pairs.right]
    same: npt.NDArray[np.bool_] = fits & (a > 0) & (a == b)
    return same


def evidence(levels: Levels, fitting: npt.NDArray[np.bool_]) -> Levels:
    """What a pair's score may lead to, whatever it is: IDENTIFYING_EVIDENCE (an auto-link) needs one fitting NIK,
    or the names to agree (similar or better) with birth dates not years apart; PARTIAL_EVIDENCE (a review) some
    agreement of the names, a missing name, a NIK alike, or the same mother and family card; agreement on sex,
    village and birth date alone is NO_EVIDENCE. The score's fields are not independent among the pairs blocking
    finds (they share a village and a birth date because they were blocked on them), so the score alone must not
    decide; and one name written twice years apart is two children far more often than one miswritten (issue 9:
    Budi Hidayat Novi and Novi Hidayat Budi, seven years apart), however many of the data's pairs are one child."""
    name, nik = levels[:, FIELD_INDEX["name"]], levels[:, FIELD_INDEX["nik"]]
    years_apart = levels[:, FIELD_INDEX["birth"]] == level("birth", "far")
    household = (levels[:, FIELD_INDEX["mother"]] == level("mother", "same")) & (
        levels[:, FIELD_INDEX["kk"]] == level("kk", "same")
    )
    result = np.full(len(levels), NO_EVIDENCE, dtype=np.int8)
    result[(name >= level("name", "weak")) | (name == 0) | (nik >= level("nik", "near")) | household] = PARTIAL_EVIDENCE
    result[((name >= level("name", "similar")) & ~years_apart) | fitting] = IDENTIFYING_EVIDENCE
    return result


def _dated_apart(pairs: Pairs, a: IntArray, b: IntArray, positions: IntArray) -> npt.NDArray[np.bool_]:
    """NIKs whose encoded birth dates differ, each agreeing with its own record's birth date."""
    dated = pairs.left_table.nik_dated[pairs.left[positions]] & pairs.right_table.nik_dated[pairs.right[positions]]
    apart: npt.NDArray[np.bool_] = dated & ((a // 10**4) % 10**6 != (b // 10**4) % 10**6)
    return apart


def digit_differences(a: IntArray, b: IntArray) -> IntArray:
    """How many of the 16 digits differ between two NIKs held as integers."""
    differing = np.zeros(len(a), dtype=np.int64)
    left, right = a.copy(), b.copy()
    for _ in range(NIK_DIGITS):
        differing += (left % 10) != (right % 10)
        left //= 10
        right //= 10
    return differing


def _column(pairs: Pairs, name: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    left = getattr(pairs.left_table, name)[pairs.left].astype(np.int64)
    return left, getattr(pairs.right_table, name)[pairs.right].astype(np.int64)


def _equal_levels(values: tuple[IntArray, IntArray]) -> Levels:
    a, b = values
    return np.where((a == 0) | (b == 0), 0, np.where(a == b, 2, 1)).astype(np.int8)


def _village_levels(values: tuple[IntArray, IntArray]) -> Levels:
    a, b = values
    level = np.ones(len(a), dtype=np.int8)
    level[a // 10**6 == b // 10**6] = 2  # regency (kabupaten / kota): the first four digits
    level[a // 10**4 == b // 10**4] = 3  # kecamatan: the first six
    level[a == b] = 4
    level[(a == 0) | (b == 0)] = 0
    return level


def _birth_levels(pairs: Pairs) -> Levels:
    ya, yb = _column(pairs, "year")
    ma, mb = _column(pairs, "month")
    da, db = _column(pairs, "day")
    same_year, same_month, same_day = ya == yb, ma == mb, da == db
    level = np.full(len(ya), 2, dtype=np.int8)
    coarse = (ma == 0) | (mb == 0)
    year_off = np.abs(ya - yb) == 1
    level[np.abs(ya - yb) >= FAR_YEARS] = 1  # years apart: two children (siblings), whatever the day and month
    one_field_off = (same_year & (same_month | same_day)) | (year_off & ((same_month & same_day) | coarse))
    level[one_field_off] = 3
    level[same_year & coarse] = 4
    level[same_year & same_month & (ma > 0) & ((da == 0) | (db == 0))] = 5
    level[same_year & (ma == db) & (mb == da) & (ma != mb) & (da > 0) & (db > 0)] = 6
    level[same_year & same_month & same_day & ~coarse & (da > 0)] = 7
    level[(ya == 0) | (yb == 0)] = 0
    return level


def _nik_levels(pairs: Pairs) -> Levels:
    a, b = _column(pairs, "nik")
    own = pairs.left_table.nik_childs[pairs.left] & pairs.right_table.nik_childs[pairs.right]
    level = np.ones(len(a), dtype=np.int8)
    both = np.flatnonzero((a > 0) & (b > 0) & (a != b))
    near = both[digit_differences(a[both], b[both]) <= 2]
    near = near[~_dated_apart(pairs, a[near], b[near], near)]
    level[near] = 2
    level[near[a[near] // 10**4 == b[near] // 10**4]] = 3  # region and date alike: the serial differs
    level[(a == b) & ~own] = 4
    level[(a == b) & own] = 5
    level[(a == 0) | (b == 0)] = 0
    return level


class _NameOverlap:
    """Token overlap of name pairs, weighted by token information. Reductions over the few token slots are
    written out slot by slot (numpy reduces a short last axis slowly)."""

    def __init__(self, pairs: Pairs, tokens: str) -> None:
        vocabulary = pairs.left_table.vocabulary
        ta = getattr(pairs.left_table, tokens)[pairs.left]
        tb = getattr(pairs.right_table, tokens)[pairs.right]
        pad_a, pad_b = ta < 0, tb < 0
        exact = (ta[:, :, None] == tb[:, None, :]) & (ta[:, :, None] >= 0)
        exact_a, exact_b = _any_of(exact, 2), _any_of(exact, 1)  # containment counts exact tokens only
        self.exact = _all_of(exact_a | pad_a) & _all_of(exact_b | pad_b)
        equal, long_alike = _tokens_alike(ta, tb, vocabulary)
        # Every token on both sides matched exactly or, both tokens long, by a typo (Febriani / Febrianu, Santoso /
        # Sanoso): one name. Twins' near-identical names (Rani / Rina, Rizki / Rizka, Putra / Putri) stay apart.
        self.typo_same = _all_of(_any_of(long_alike, 2) | pad_a) & _all_of(_any_of(long_alike, 1) | pad_b)
        wa, wb = vocabulary.weights(ta), vocabulary.weights(tb)
        matched_a, matched_b = _any_of(equal, 2), _any_of(equal, 1)
        self.missing = pad_a[:, 0] | pad_b[:, 0]
        self.matched_bits = _sum_of(wa * matched_a)
        total_a, total_b = _sum_of(wa), _sum_of(wb)
        self.dice = (self.matched_bits + _sum_of(wb * matched_b)) / np.maximum(total_a + total_b, 1e-6)
        self.subset = _all_of(exact_a | pad_a) | _all_of(exact_b | pad_b)
        self.subset_bits = _sum_of(wa * exact_a)
        self.total_bits = np.minimum(total_a, total_b)  # a misspelt token is rarer than the name it spells
        # The tokens that differ: a misspelling is much rarer than the name it spells (Aisyah / Asiyah) and seen
        # once or twice; twins' names are both names in use (Rafi / Rafa, Salwa / Salma, Rizki / Rizka).
        unmatched_a, unmatched_b = ~exact_a & ~pad_a, ~exact_b & ~pad_b
        rarest = np.maximum(
            _reduce(np.maximum, np.where(unmatched_a, wa, 0)), _reduce(np.maximum, np.where(unmatched_b, wb, 0))
        )
        commonest = np.minimum(
            _reduce(np.minimum, np.where(unmatched_a, wa, np.inf)),
            _reduce(np.minimum, np.where(unmatched_b, wb, np.inf)),
        )
        spread = np.where(np.isfinite(commonest), rarest - commonest, 0.0)
        self.misspelt = (spread >= TYPO_RARITY_BITS) & (rarest >= vocabulary.rare_bits(TYPO_MAX_COUNT))


def _any_of(alike: npt.NDArray[np.bool_], axis: int) -> npt.NDArray[np.bool_]:
    """Per pair and token of one side, whether it is alike to any token of the other (axis 2: of the left
    side's tokens, 1: of the right side's)."""
    slots = [alike[:, :, k] if axis == 2 else alike[:, k, :] for k in range(alike.shape[axis])]
    found: npt.NDArray[np.bool_] = functools.reduce(np.logical_or, slots)
    return found


def _all_of(values: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    found: npt.NDArray[np.bool_] = functools.reduce(np.logical_and, [values[:, k] for k in range(values.shape[1])])
    return found


def _sum_of(values: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return _reduce(np.add, values)


def _reduce(operation: np.ufunc, values: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    result: npt.NDArray[np.float32] = functools.reduce(operation, [values[:, k] for k in range(values.shape[1])])
    return result


def _tokens_alike(
    ta: npt.NDArray[np.int32], tb: npt.NDArray[np.int32], vocabulary: Vocabulary
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Token by token (pairs, tokens, tokens): the same canonical token, or two longer tokens one typo apart
    (Jaro-Winkler at least TOKEN_JW: Anggraini / Anggranii, not Rafa / Rafi or Salwa / Salma); and the same with
    typos allowed only between tokens of TYPO_SAME_MIN_LENGTH letters or more."""
    a, b = np.broadcast_arrays(ta[:, :, None], tb[:, None, :])
    alike: npt.NDArray[np.bool_] = (a == b) & (a >= 0)
    differ = (a != b) & (a >= 0) & (b >= 0)
    if not differ.any():
        return alike, alike.copy()
    texts = vocabulary.names
    codes = a[differ].astype(np.int64) * (len(texts) + 1) + b[differ]
    distinct, inverse = np.unique(codes, return_inverse=True)
    left, right = np.divmod(distinct, len(texts) + 1)
    shorter = np.minimum(vocabulary.lengths(left), vocabulary.lengths(right))
    long_enough = shorter >= TOKEN_MIN_LENGTH
    similar = np.zeros(len(distinct), dtype=bool)
    if long_enough.any():
        chosen = np.flatnonzero(long_enough)
        similar[chosen] = (
            cpdist(
                [texts[k] for k in left[chosen].tolist()],
                [texts[k] for k in right[chosen].tolist()],
                scorer=JaroWinkler.normalized_similarity,
                workers=-1 if len(chosen) > PARALLEL_FROM else 1,
                dtype=np.float32,
            )
            >= TOKEN_JW
        )
    long_alike = alike.copy()
    alike[differ] = similar[inverse]
    long_alike[differ] = (similar & (shorter >= TYPO_SAME_MIN_LENGTH))[inverse]
    return alike, long_alike


_Leveller = Callable[[_NameOverlap, npt.NDArray[np.bool_], npt.NDArray[np.float32]], Levels]


def _names(pairs: Pairs, columns: tuple[str, str, str], leveller: _Leveller) -> Levels:
    """Levels of a name field from its token, written-order and sorted-order columns."""
    tokens, written, ordered = columns
    overlap = _NameOverlap(pairs, tokens)
    ka, kb = _column(pairs, written)
    same = (ka == kb) | ((overlap.exact | overlap.typo_same) & ~overlap.missing)
    similarity = np.zeros(len(ka), dtype=np.float32)
    fuzzy = np.flatnonzero(~same & ~overlap.missing)
    if len(fuzzy):
        sa, sb = _column(pairs, ordered)
        similarity[fuzzy] = np.maximum(
            _similarity(pairs, ka[fuzzy], kb[fuzzy]), _similarity(pairs, sa[fuzzy], sb[fuzzy])
        )
    return leveller(overlap, same, similarity)


def _similarity(pairs: Pairs, left: IntArray, right: IntArray) -> npt.NDArray[np.float32]:
    """Jaro-Winkler similarity of the names with these ids, pair by pair."""
    texts = pairs.left_table.vocabulary.names
    return cpdist(
        [texts[k] for k in left.tolist()],
        [texts[k] for k in right.tolist()],
        scorer=JaroWinkler.normalized_similarity,
        workers=-1 if len(left) > PARALLEL_FROM else 1,
        dtype=np.float32,
    )


def _name_levels(overlap: _NameOverlap, same: npt.NDArray[np.bool_], similarity: npt.NDArray[np.float32]) -> Levels:
    level = np.ones(len(same), dtype=np.int8)  # disjoint: no token in common, not even with a typo
    level[overlap.matched_bits > 0] = 2
    level[(similarity >= WEAK_JW) | (overlap.dice >= 0.3)] = 3
    similar = (similarity >= SIMILAR_JW) | (overlap.dice >= 0.7)
    level[similar] = 4
    level[similar & overlap.misspelt] = 5
    # One name is the other with parts left out (Saputra / Hosnan Saputra, Putri / Putri Sukrah): contained, and a
    # subset when the shorter name carries enough information on its own.
    level[overlap.subset] = 6
    level[overlap.subset & (overlap.subset_bits >= SUBSET_MIN_BITS)] = 7
    level[same] = 8
    level[same & (overlap.total_bits >= COMMON_NAME_BITS)] = 9
    level[same & (overlap.total_bits >= RARE_NAME_BITS)] = 10
    level[overlap.missing] = 0
    return level


def _mother_levels(overlap: _NameOverlap, same: npt.NDArray[np.bool_], similarity: npt.NDArray[np.float32]) -> Levels:
    level = np.ones(len(same), dtype=np.int8)
    similar = (similarity >= SIMILAR_JW) | (overlap.subset & (overlap.subset_bits >= MOTHER_SUBSET_MIN_BITS))
    level[similar] = 2
    level[same] = 3
    level[overlap.missing] = 0
    return level
