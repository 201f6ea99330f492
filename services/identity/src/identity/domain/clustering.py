"""From scored pairs to persons: link above the auto-link threshold unless a constraint forbids it.

Certain pairs come first: records holding one NIK that fits both (the child's own, its date and sex those of
each record), and records agreeing on everything they state. They are joined, strongest first, unless the join
would give one person two different own NIKs; no sibling or twin veto keeps them apart, and the record that
would bring the second NIK stays out (in review) instead of the certain pair. Then the other pairs, from the
highest match weight down (weights, not probabilities, which round to 1 for strong pairs and would lose the
order): two groups merge only if no pair across them is vetoed (the sibling and twin rule, or two different NIKs
each the child's own) or strongly against (the model finds it far likelier two children), and the groups
together would not hold two different own NIKs. Pairs between the review and auto-link thresholds that stay
apart are marked for review: a person is never formed on review-band evidence alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from identity.domain.comparisons import FIELD_INDEX, Levels, level
from identity.domain.model import FloatArray
from identity.domain.table import IntArray

MAX_NIK_TYPOS = 2
AGAINST_BITS = -4.0  # a pair the model finds 16 times likelier two children than one keeps their groups apart
NEW, LINKED, REVIEW = "new", "linked", "review"
_MOTHER_SIMILAR, _KK_SAME, _VILLAGE_SAME = level("mother", "similar"), level("kk", "same"), level("village", "same")
_NAME_WEAK, _NAME_SIMILAR = level("name", "weak"), level("name", "similar")
_NAME_SAME_COMMON, _NAME_SAME = level("name", "same_common"), level("name", "same")
_BIRTH_FAR, _BIRTH_DIFFERENT = level("birth", "far"), level("birth", "different")
_BIRTH_MONTH, _BIRTH_SAME = level("birth", "month"), level("birth", "same")
_NIK_SERIAL, _NIK_SAME = level("nik", "serial"), level("nik", "same")
_NIK_SAME_NOT_CHILDS = level("nik", "same_not_childs")
_SEX_SAME, _SEX_DIFFERENT, _MOTHER_SAME = level("sex", "same"), level("sex", "different"), level("mother", "same")


def sibling_like(levels: Levels) -> npt.NDArray[np.bool_]:
    """Pairs of one household (same mother, and the same family card or village) that are siblings or twins, not
    one child written twice: birth dates years apart, or different (or the sex different) with names not the
    same, clearly different names, or names that differ a little (not by a misspelling) with the same birth date
    (twins are often named Hasan / Husain, Putra / Putri). The child's own NIK, identical on both sides,
    overrides the rule."""
    name, birth = levels[:, FIELD_INDEX["name"]], levels[:, FIELD_INDEX["birth"]]
    sex = levels[:, FIELD_INDEX["sex"]]
    household = _household(levels)
    names_differ = (name > 0) & ((name <= _NAME_WEAK) | ((name == _NAME_SIMILAR) & (birth >= _BIRTH_MONTH)))
    same_own_nik = levels[:, FIELD_INDEX["nik"]] == _NIK_SAME
    vetoed: npt.NDArray[np.bool_] = (
        household
        & ~same_own_nik
        & (
            names_differ
            | (birth == _BIRTH_FAR)
            | (((birth == _BIRTH_DIFFERENT) | (sex == _SEX_DIFFERENT)) & (name < _NAME_SAME_COMMON))
        )
    )
    return vetoed


def vetoes(levels: Levels, nik_conflicts: npt.NDArray[np.bool_], sure: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Pairs a rule forbids to link: siblings or twins, or two different own NIKs; never a certain pair."""
    vetoed: npt.NDArray[np.bool_] = (sibling_like(levels) | nik_conflicts) & ~sure
    return vetoed


def against(weights: FloatArray, sure: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Pairs the model finds strongly two children (weight below AGAINST_BITS), never a certain pair: they keep
    their groups apart, so that a record alike to one child's records and another's does not join the two."""
    found: npt.NDArray[np.bool_] = (weights < AGAINST_BITS) & ~sure
    return found


def _household(levels: Levels) -> npt.NDArray[np.bool_]:
    """One household: the same mother and family card or village, or the same family card alone, or NIKs alike
    but for the serial (children registered one after the other: twins), as when the mother's name is missing."""
    same_kk = levels[:, FIELD_INDEX["kk"]] == _KK_SAME
    household: npt.NDArray[np.bool_] = (
        (
            (levels[:, FIELD_INDEX["mother"]] >= _MOTHER_SIMILAR)
            & (same_kk | (levels[:, FIELD_INDEX["village"]] == _VILLAGE_SAME))
        )
        | same_kk
        | (levels[:, FIELD_INDEX["nik"]] == _NIK_SERIAL)
    )
    return household


def certain(levels: Levels, fitting_nik: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Pairs that are one child whatever else is in their groups: one NIK fitting both records (unless the
    records are of one household with clearly different names: a NIK mistyped into a sibling's), or agreement
    on everything both state (the name in full, the full birth date, sex and village; the mother's name and the
    family card not different; the NIK not different) with a name that is not common or the same mother."""
    column = {name: levels[:, position] for name, position in FIELD_INDEX.items()}
    nik, mother, kk = column["nik"], column["mother"], column["kk"]
    name = column["name"]
    household = _household(_without_nik(levels))
    by_nik = fitting_nik & ~(household & (name > 0) & (name <= _NAME_WEAK))
    nothing_differs = (
        ((nik == 0) | (nik >= _NIK_SAME_NOT_CHILDS))
        & (mother != level("mother", "different"))
        & (kk != level("kk", "different"))
    )
    agreeing: npt.NDArray[np.bool_] = (
        (column["name"] >= _NAME_SAME_COMMON)
        & (column["birth"] == _BIRTH_SAME)
        & (column["sex"] == _SEX_SAME)
        & (column["village"] == _VILLAGE_SAME)
        & nothing_differs
        & ((column["name"] >= _NAME_SAME) | (mother == _MOTHER_SAME))
    )
    return by_nik | agreeing


def _without_nik(levels: Levels) -> Levels:
    """The levels with the NIK's made missing, for the household rule to judge the rest."""
    copy = levels.copy()
    copy[:, FIELD_INDEX["nik"]] = 0
    return copy


@dataclass(frozen=True)
class ScoredPairs:
    """Candidate pairs (left < right rows) with their match weight (bits) and probability, whether a rule forbids
    the link, whether they are certain (see `certain`; a certain pair is never vetoed) and whether the model finds
    them strongly two children (see `against`)."""

    left: IntArray
    right: IntArray
    weight: FloatArray
    probability: FloatArray
    vetoed: npt.NDArray[np.bool_]
    certain: npt.NDArray[np.bool_]
    against: npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Clusters:
    """Per row: its cluster (the smallest row in it), best score and decision (new, linked, review)."""

    label: IntArray
    score: FloatArray
    decision: list[str]


class _Groups:
    """Union-find over rows, with each group's own NIKs and members, checking constraints before a merge."""

    def __init__(self, size: int, niks: IntArray, cannot: tuple[list[int], list[int]]) -> None:
        self.parent = list(range(size))
        self.members: dict[int, list[int]] = {}
        self.niks: dict[int, set[int]] = {row: {int(niks[row])} for row in np.flatnonzero(niks).tolist()}
        self.starts, self.cannot = cannot  # row r cannot join the rows cannot[starts[r]:starts[r + 1]]

    def find(self, row: int) -> int:
        root = row
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[row] != root:
            self.parent[row], row = root, self.parent[row]
        return root

    def niks_agree(self, a: int, b: int) -> bool:
        for left in self.niks.get(a, ()):
            for right in self.niks.get(b, ()):
                if left != right and _digit_differences(left, right) > MAX_NIK_TYPOS:
                    return False
        return True

    def may_merge(self, a: int, b: int) -> bool:
        if not self.niks_agree(a, b):
            return False
        small, large = (a, b) if len(self.members.get(a, [a])) <= len(self.members.get(b, [b])) else (b, a)
        starts, cannot, rows_of_large = self.starts, self.cannot, set(self.members.get(large, [large]))
        return all(
            rows_of_large.isdisjoint(cannot[starts[row] : starts[row + 1]]) for row in self.members.get(small, [small])
        )

    def merge(self, a: int, b: int) -> None:
        root, child = min(a, b), max(a, b)
        self.parent[child] = root
        self.members[root] = self.members.pop(root, [root]) + self.members.pop(child, [child])
        self.niks[root] = self.niks.pop(root, set()) | self.niks.pop(child, set())


def cluster(size: int, pairs: ScoredPairs, own_niks: IntArray, *, auto_link: float, review: float) -> Clusters:
    """Group rows into persons; own_niks holds each row's own NIK (0 if none or not the child's)."""
    # Only rows that some pair may link can end in a merged group: the others' constraints never matter.
    linking = pairs.certain | ((pairs.probability >= auto_link) & ~pairs.vetoed)
    linkable = np.zeros(size, dtype=np.bool_)
    linkable[pairs.left[linking]] = linkable[pairs.right[linking]] = True
    apart = (pairs.vetoed | pairs.against) & linkable[pairs.left] & linkable[pairs.right]
    groups = _Groups(size, own_niks, _by_row(size, pairs.left[apart], pairs.right[apart]))
    score = np.zeros(size, dtype=np.float64)
    in_review = np.zeros(size, dtype=np.bool_)
    sure = np.flatnonzero(pairs.certain)
    for left, right, probability in _strongest_first(pairs, sure):
        a, b = groups.find(left), groups.find(right)
        if a == b:
            continue
        if groups.niks_agree(a, b):
            groups.merge(a, b)
            score[left], score[right] = max(score[left], probability), max(score[right], probability)
        else:
            in_review[left] = in_review[right] = True
    considered = np.flatnonzero((pairs.probability >= review) & ~pairs.vetoed & ~pairs.certain)
    for left, right, probability in _strongest_first(pairs, considered):
        a, b = groups.find(left), groups.find(right)
        if a == b:
            continue
        if probability >= auto_link and groups.may_merge(a, b):
            groups.merge(a, b)
            score[left], score[right] = max(score[left], probability), max(score[right], probability)
        else:
            in_review[left] = in_review[right] = True
    label = np.array([groups.find(row) for row in range(size)], dtype=np.int64)
    linked = np.bincount(label, minlength=size)[label] > 1
    _best_unlinked(score, pairs, linked)
    decision = [
        LINKED if is_linked else REVIEW if reviewed else NEW
        for is_linked, reviewed in zip(linked.tolist(), in_review.tolist(), strict=True)
    ]
    return Clusters(label, score, decision)


def _by_row(size: int, left: IntArray, right: IntArray) -> tuple[list[int], list[int]]:
    """Each row's partners in these pairs, both ways, as a compressed list: row r's are at starts[r]:starts[r+1]."""
    rows, partners = np.concatenate((left, right)), np.concatenate((right, left))
    starts = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=size), out=starts[1:])
    return starts.tolist(), partners[np.argsort(rows, kind="stable")].tolist()


def _strongest_first(pairs: ScoredPairs, chosen: IntArray) -> zip[tuple[int, int, float]]:
    order = chosen[np.argsort(-pairs.weight[chosen], kind="stable")]
    return zip(pairs.left[order].tolist(), pairs.right[order].tolist(), pairs.probability[order].tolist(), strict=True)


def _best_unlinked(score: FloatArray, pairs: ScoredPairs, linked: npt.NDArray[np.bool_]) -> None:
    """A record left on its own scores its best candidate (0 when it had none)."""
    for rows in (pairs.left, pairs.right):
        alone = ~linked[rows]
        np.maximum.at(score, rows[alone], pairs.probability[alone])


def _digit_differences(a: int, b: int) -> int:
    return sum(x != y for x, y in zip(f"{a:016d}", f"{b:016d}", strict=True))
