"""The attacks on the ministry's feed, enumerated: no withheld count of 1-4 can be recovered from what it publishes.

The attacker here is written independently of the feed's audit: for each attack it takes the published figures and
what the method publicly promises (withheld counts are 1-4, published ones are within +-MAX_NOISE of the truth and
at least 5; a feed with primary suppression only promises exact values) and derives the interval a withheld count
must lie in. A count is recovered when that interval holds exactly one value. Every attack is shown to succeed on a
feed with primary suppression only, on the same data, so the test can fail.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace

import pytest

from reporting.domain.cells import CUMULATIVE, AgeBand, Cell, CellKey, RegionLevel, Sex
from reporting.domain.feed import MAX_NOISE, LedgerEntry, ProtectedCell, Protection, primary_only, protect

SECRET = b"test secret: the ministry's feed key"
THRESHOLD = 5
VILLAGES = [f"35.09.{kec}.{village}" for kec in (11, 12) for village in (2001, 2002, 2003, 2004)]
MONTHS = ("202601", "202602")
BANDS = (AgeBand.AGE_5_11, AgeBand.AGE_12_14, AgeBand.AGE_15_17)
SEXES = (Sex.FEMALE, Sex.MALE)
LINKED = {"identified": ("labourers", "at_risk")}
PROTECTION = Protection(SECRET, THRESHOLD, LINKED)


def ancestors(village: str) -> list[tuple[str, RegionLevel]]:
    parts = village.split(".")
    return [
        (village, RegionLevel.VILLAGE),
        (".".join(parts[:3]), RegionLevel.KECAMATAN),
        (".".join(parts[:2]), RegionLevel.KABUPATEN),
        (parts[0], RegionLevel.PROVINCE),
        ("ID", RegionLevel.NATIONAL),
    ]


def cube(base: dict[tuple[str, str, str, Sex, AgeBand], int]) -> list[Cell]:
    """Every margin of base counts (indicator, village, month, sex, band), summed up: a fully additive feed."""
    totals: dict[CellKey, int] = {}
    for (indicator, village, month, sex, band), value in base.items():
        names = [indicator, *(total for total, parts in LINKED.items() if indicator in parts)]
        for name, (code, level), period, s, b in itertools.product(
            names, ancestors(village), (month, CUMULATIVE), (sex, Sex.ALL), (band, AgeBand.ALL)
        ):
            key = CellKey(name, code, level, period, s, b)
            totals[key] = totals.get(key, 0) + value
    return [Cell.of(key, value) for key, value in totals.items()]


@functools.cache
def pilot_cube(seed: int) -> list[Cell]:
    return cube(pilot(seed))


@functools.cache
def protected(seed: int) -> tuple[ProtectedCell, ...]:
    return protect(pilot_cube(seed), PROTECTION).cells


def pilot(seed: int) -> dict[tuple[str, str, str, Sex, AgeBand], int]:
    """Village-level counts with many small cells, as the pilot has."""
    rng = random.Random(seed)
    return {
        (indicator, village, month, sex, band): rng.choice((0, 0, 1, 1, 2, 3, 4, 6, 9))
        for indicator in ("labourers", "at_risk")
        for village, month, sex, band in itertools.product(VILLAGES, MONTHS, SEXES, BANDS)
    }


# --- what the attacker knows -------------------------------------------------------------------------------------

Interval = tuple[float, float]


def known(cell: ProtectedCell, noise: int) -> Interval:
    """The interval the published cell promises for its true count."""
    if cell.value is None:
        return (1, float("inf"))  # withheld: primary (1-4) or complementary (>= 5); the attacker cannot tell
    if cell.value == 0:
        return (0, 0)
    return (max(THRESHOLD, cell.value - noise), cell.value + noise)


def difference(total: Interval, others: Iterable[Interval]) -> Interval:
    """total - sum(others), as an interval."""
    others = list(others)
    return (total[0] - sum(hi for _, hi in others), total[1] - sum(lo for lo, _ in others))


def recovered(interval: Interval) -> bool:
    """One value left for a withheld count (which is at least 1)."""
    return max(1, interval[0]) == interval[1]


def total_of(key: CellKey, dimension: str) -> CellKey | None:
    """The total a cell is a part of along one dimension (None when it is that dimension's margin)."""
    if dimension == "region":
        if key.region_level is RegionLevel.NATIONAL:
            return None
        level = list(RegionLevel)[key.region_level.rank + 1]
        code = "ID" if level is RegionLevel.NATIONAL else key.region_code.rsplit(".", 1)[0]
        return replace(key, region_code=code, region_level=level)
    if dimension == "sex":
        return None if key.sex is Sex.ALL else replace(key, sex=Sex.ALL)
    if dimension == "age":
        return None if key.age_band is AgeBand.ALL else replace(key, age_band=AgeBand.ALL)
    return None if key.period == CUMULATIVE else replace(key, period=CUMULATIVE)


_PARTS: dict[tuple[int, str], tuple[Collection[CellKey], dict[CellKey, list[CellKey]]]] = {}


def parts_of(total: CellKey, keys: Collection[CellKey], dimension: str) -> list[CellKey]:
    """The published parts of `total` along one dimension (the index is built once per feed and dimension: keyed by
    the feed's identity, which the cache keeps alive, since hashing a frozenset of every key on each call made the
    attacks quadratic)."""
    cached = _PARTS.get((id(keys), dimension))
    if cached is None or cached[0] is not keys:
        index: dict[CellKey, list[CellKey]] = {}
        for key in keys:
            parent = total_of(key, dimension)
            if parent is not None:
                index.setdefault(parent, []).append(key)
        cached = _PARTS[id(keys), dimension] = (keys, index)
    return cached[1].get(total, [])


def margin_attack(dimension: str) -> Callable[[Sequence[ProtectedCell], int], set[CellKey]]:
    """Total minus every other part recovers a part withheld alone."""
    def attack(feed: Sequence[ProtectedCell], noise: int) -> set[CellKey]:
        cells = {cell.key: cell for cell in feed}
        found = set()
        for total in cells.values():
            parts = parts_of(total.key, cells, dimension)
            withheld = [key for key in parts if cells[key].value is None]
            if total.value is None or len(withheld) != 1:
                continue
            others = (known(cells[key], noise) for key in parts if key != withheld[0])
            if recovered(difference(known(total, noise), others)):
                found.add(withheld[0])
        return found
    return attack


def hierarchy_differencing(feed: Sequence[ProtectedCell], noise: int) -> set[CellKey]:
    """A kabupaten minus the kecamatan published whole minus the villages of the other kecamatan: two levels."""
    cells = {cell.key: cell for cell in feed}
    found = set()
    for district in (cell for cell in cells.values() if cell.key.region_level is RegionLevel.KABUPATEN):
        kecamatans = parts_of(district.key, cells, "region")
        for kecamatan in kecamatans:
            villages = parts_of(kecamatan, cells, "region")
            withheld = [key for key in villages if cells[key].value is None]
            if district.value is None or len(withheld) != 1:
                continue
            others = [known(cells[key], noise) for key in kecamatans if key != kecamatan]
            others += [known(cells[key], noise) for key in villages if key != withheld[0]]
            if recovered(difference(known(district, noise), others)):
                found.add(withheld[0])
    return found


def linked_tables(feed: Sequence[ProtectedCell], noise: int) -> set[CellKey]:
    """identified - at_risk = labourers, across two tables of the same regions."""
    cells = {cell.key: cell for cell in feed}
    found = set()
    for key, cell in cells.items():
        if key.indicator != "labourers" or cell.value is not None:
            continue
        total, other = cells.get(replace(key, indicator="identified")), cells.get(replace(key, indicator="at_risk"))
        if total is None or other is None or total.value is None or other.value is None:
            continue
        if recovered(difference(known(total, noise), [known(other, noise)])):
            found.add(key)
    return found


def combined(feed: Sequence[ProtectedCell], noise: int) -> set[CellKey]:
    """Every relation at once, intervals tightened until nothing changes (the strongest attacker here)."""
    cells = {cell.key: cell for cell in feed}
    bounds = {key: known(cell, noise) for key, cell in cells.items()}
    equations = [
        (total, parts)
        for total in cells
        for dimension in ("region", "sex", "age", "period")
        if (parts := parts_of(total, cells, dimension))
    ]
    equations += [
        (total, [replace(total, indicator=name) for name in LINKED["identified"]])
        for total in cells
        if total.indicator == "identified"
    ]
    for _ in range(30):
        changed = False
        for total, parts in equations:
            for target in parts:
                interval = difference(bounds[total], (bounds[key] for key in parts if key != target))
                tightened = (max(bounds[target][0], interval[0]), min(bounds[target][1], interval[1]))
                if tightened != bounds[target] and tightened[0] <= tightened[1]:
                    bounds[target], changed = tightened, True
        if not changed:
            break
    return {key for key, cell in cells.items() if cell.value is None and recovered(bounds[key])}


ATTACKS = {
    "row and column totals (sex margin)": margin_attack("sex"),
    "age margin": margin_attack("age"),
    "region hierarchy: parent minus children": margin_attack("region"),
    "hierarchy differencing over two levels": hierarchy_differencing,
    "cumulative minus the other month": margin_attack("period"),
    "two linked tables": linked_tables,
    "every relation combined": combined,
}


def true_small(cells: Iterable[Cell]) -> set[CellKey]:
    return {cell.key for cell in cells if 0 < cell.value < THRESHOLD}


def correct(found: set[CellKey], cells: list[Cell], feed: Sequence[ProtectedCell], noise: int) -> set[CellKey]:
    """The small cells the attacker pinned to their true value."""
    del feed, noise
    return found & true_small(cells)


@pytest.mark.parametrize("name", list(ATTACKS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_attack_recovers_small_cells_from_primary_suppression_only(name: str, seed: int) -> None:
    cells = pilot_cube(seed)
    feed = primary_only(cells, THRESHOLD)
    found = ATTACKS[name](feed, 0)
    truth = {cell.key: cell.value for cell in cells}
    assert found, f"{name} recovers nothing from a primary-only feed: the attack is too weak to show anything"
    assert all(0 < truth[key] < THRESHOLD for key in found)


@pytest.mark.parametrize("name", list(ATTACKS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_attack_recovers_a_small_cell_from_the_protected_feed(name: str, seed: int) -> None:
    cells = pilot_cube(seed)
    feed = protected(seed)
    assert any(cell.suppressed for cell in feed)
    truth = {cell.key: cell.value for cell in cells}
    assert all(cell.suppressed for cell in feed if 0 < truth[cell.key] < THRESHOLD)
    assert ATTACKS[name](feed, MAX_NOISE) == set()


def republication(seed: int) -> tuple[list[Cell], list[Cell]]:
    """February's cumulative, then March's: March is a month with small counts."""
    first = pilot(seed)
    rng = random.Random(seed + 100)
    second = dict(first)
    for (indicator, village, _, sex, band), _value in list(first.items()):
        second[indicator, village, "202603", sex, band] = rng.choice((0, 0, 0, 1, 2))
    return cube(first), cube(second)


def two_period_attack(before: Sequence[ProtectedCell], after: Sequence[ProtectedCell], noise: int) -> set[CellKey]:
    """This publication's cumulative minus the last one's: the months added since, when they are withheld."""
    old = {cell.key: cell for cell in before}
    withheld = {cell.key for cell in after if cell.value is None}
    found = set()
    for cell in after:
        previous = old.get(cell.key)
        if cell.key.period != CUMULATIVE or previous is None or cell.value is None or previous.value is None:
            continue
        change = difference(known(cell, noise), [known(previous, noise)])
        month = replace(cell.key, period="202603")
        if month in withheld and recovered(change):
            found.add(month)
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_period_differencing_recovers_the_new_month_from_primary_suppression_only(seed: int) -> None:
    first, second = republication(seed)
    found = two_period_attack(primary_only(first), primary_only(second), 0)
    truth = {cell.key: cell.value for cell in second}
    assert found & true_small(second)
    assert all(0 < truth[key] < THRESHOLD for key in found)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_period_differencing_recovers_nothing_from_the_protected_feeds(seed: int) -> None:
    first, second = republication(seed)
    published = protect(first, PROTECTION)
    again = protect(second, PROTECTION, published.ledger)
    assert two_period_attack(published.cells, again.cells, MAX_NOISE) == set()
    for name, attack in ATTACKS.items():
        assert attack(again.cells, MAX_NOISE) == set(), name


def test_republishing_the_same_counts_publishes_the_same_numbers() -> None:
    cells = cube(pilot(4))
    first = protect(cells, PROTECTION)
    again = protect(cells, PROTECTION, first.ledger)
    assert first.cells == again.cells
    reordered = protect(list(reversed(cells)), PROTECTION)
    assert reordered.cells == first.cells


def test_a_cell_has_one_value_in_every_table_it_appears_in() -> None:
    cells = cube(pilot(5))
    whole = {cell.key: cell.value for cell in protect(cells, PROTECTION).cells}
    perturbed = [cell for cell in cells if cell.value >= THRESHOLD]
    assert any(whole[cell.key] != cell.value for cell in perturbed), "no noise at all"
    assert all(abs((whole[cell.key] or cell.value) - cell.value) <= MAX_NOISE for cell in perturbed)


def test_zero_is_published_as_zero_and_nothing_below_the_threshold_is_published() -> None:
    cells = cube(pilot(6))
    truth = {cell.key: cell.value for cell in cells}
    for cell in protect(cells, PROTECTION).cells:
        if truth[cell.key] == 0:
            assert cell.value == 0
        elif cell.value is not None:
            assert cell.value >= THRESHOLD


def test_a_different_secret_draws_different_noise() -> None:
    cells = cube(pilot(7))
    one = protect(cells, PROTECTION).cells
    other = protect(cells, Protection(b"another key", THRESHOLD, LINKED)).cells
    assert one != other


def test_the_ledger_keeps_what_was_published() -> None:
    cells = cube(pilot(8))
    publication = protect(cells, PROTECTION)
    truth = {cell.key: cell.value for cell in cells}
    for cell in publication.cells:
        assert publication.ledger[cell.key] == LedgerEntry(truth[cell.key], cell.value, cell.status)


@pytest.mark.parametrize("seed", [1, 2, 3, 7])
def test_complementary_withholding_stays_rare(seed: int) -> None:
    """The audit withholds what pins a small count, not the feed: most counts of 5 or more stay published."""
    cells = pilot_cube(seed)
    large = {cell.key for cell in cells if cell.value >= THRESHOLD}
    feed = protected(seed)
    withheld_large = [cell for cell in feed if cell.key in large and cell.suppressed]
    assert len(withheld_large) <= 0.05 * len(large), (len(withheld_large), len(large))
