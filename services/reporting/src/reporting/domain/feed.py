"""The ministry's protected feed: primary suppression, the cell-key method, and an audit that closes what is left.

ADR 0005 gives the reasons. In short, for every publication:

1. Primary suppression: a true count in 1..threshold-1 (1-4) is withheld. Zero is published as zero.
2. The cell-key method: every other count is published as `max(threshold, count + noise)` with a noise in -2..+2
   drawn from a fixed p-table by a keyed hash (HMAC-SHA256 with the feed's secret) of the cell's key AND its true
   count. The same cell with the same count gets the same number in every publication and every table (so
   re-publication cannot be averaged and two linked tables agree); a changed count gets a fresh draw.
3. The audit: an attacker who knows the method and its bounds (noise within +-2, a withheld count at least 1,
   published counts at least `threshold`) propagates interval bounds through every additive relation the feed
   publishes - the region hierarchy, the sex and age margins, cumulative over months, configured indicator sums
   (linked tables), and the change of a cell since its last publication (the ledger) - to a fixpoint. Whenever
   that leaves a withheld count (or a small change since the last publication) with a single possible value, the
   audit withholds one more cell of a relation that pins it (complementary suppression: the smallest count >=
   threshold) and starts again.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import cast

from reporting.domain.cells import CUMULATIVE, AgeBand, Cell, CellKey, RegionLevel, Sex, parent_region

P_TABLE: tuple[tuple[int, float], ...] = ((-2, 0.05), (-1, 0.20), (0, 0.50), (1, 0.20), (2, 0.05))
"""Noise and its probability: mean 0, variance 0.8, bounded by MAX_NOISE."""
MAX_NOISE = max(abs(noise) for noise, _ in P_TABLE)
_INFINITY = math.inf


class Status(StrEnum):
    """Why a published cell shows what it shows. The public sees only `value is None`."""

    PUBLISHED = "published"
    PRIMARY = "primary"
    COMPLEMENTARY = "complementary"


@dataclass(frozen=True)
class Protection:
    """The method's parameters: counts 1..threshold-1 are withheld; the secret keys the noise."""

    secret: bytes
    threshold: int = 5
    indicator_sums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Linked tables: an indicator that is the sum of others, e.g. identified = labourers + at risk."""


@dataclass(frozen=True)
class ProtectedCell:
    """A cell of the feed: `value` None when withheld."""

    key: CellKey
    value: int | None
    status: Status

    @property
    def suppressed(self) -> bool:
        """True when the count is withheld."""
        return self.value is None


@dataclass(frozen=True)
class LedgerEntry:
    """What was last published for a cell (kept so the next publication can be audited against it)."""

    true_value: int
    published: int | None
    status: Status = Status.PUBLISHED

    def cell(self, key: CellKey) -> ProtectedCell:
        """The published cell this entry records."""
        return ProtectedCell(key, self.published, self.status)


@dataclass(frozen=True)
class Publication:
    """The protected cells, and the ledger entries to keep for the next publication."""

    cells: tuple[ProtectedCell, ...]
    ledger: Mapping[CellKey, LedgerEntry]

    def visible(self, allowed: Iterable[CellKey] | None = None) -> tuple[ProtectedCell, ...]:
        """The cells, optionally only those in `allowed`."""
        if allowed is None:
            return self.cells
        keys = set(allowed)
        return tuple(cell for cell in self.cells if cell.key in keys)


def noise(secret: bytes, key: CellKey, value: int) -> int:
    """The cell-key noise of `key` at true count `value`: deterministic, from the p-table."""
    digest = hmac.new(secret, f"{key.text}#{value}".encode(), hashlib.sha256).digest()
    uniform = int.from_bytes(digest[:8], "big") / 2**64
    cumulative = 0.0
    for amount, probability in P_TABLE:
        cumulative += probability
        if uniform < cumulative:
            return amount
    return P_TABLE[-1][0]


def perturb(secret: bytes, key: CellKey, value: int, threshold: int) -> int:
    """The published count of a cell that is not withheld: zero stays zero, the rest never falls below threshold."""
    if value == 0:
        return 0
    return max(threshold, value + noise(secret, key, value))


@dataclass(frozen=True)
class Relation:
    """total = sum(parts), as an attacker may assume from what the feed publishes."""

    total: CellKey | str
    parts: tuple[CellKey | str, ...]

    @property
    def members(self) -> tuple[CellKey | str, ...]:
        """The total and its parts."""
        return (self.total, *self.parts)


def _margins(key: CellKey) -> list[tuple[str, CellKey]]:
    """The totals `key` is a part of, by dimension: its parent region, its sex, age and period margins."""
    totals = []
    parent = parent_region(key.region_code, key.region_level)
    if parent is not None:
        totals.append(("region", replace(key, region_code=parent[0], region_level=parent[1])))
    if key.sex is not Sex.ALL:
        totals.append(("sex", replace(key, sex=Sex.ALL)))
    if key.age_band is not AgeBand.ALL:
        totals.append(("age", replace(key, age_band=AgeBand.ALL)))
    if key.period != CUMULATIVE:
        totals.append(("period", replace(key, period=CUMULATIVE)))
    return totals


def relations(keys: Iterable[CellKey], protection: Protection) -> list[Relation]:
    """Every additive relation among `keys`: hierarchy, sex and age margins, cumulative over months, linked sums."""
    present = set(keys)
    groups: dict[tuple[str, CellKey], list[CellKey]] = defaultdict(list)
    by_indicator: dict[tuple[str, str, str, str], dict[str, CellKey]] = defaultdict(dict)
    for key in present:
        for dimension, total in _margins(key):
            groups[dimension, total].append(key)
        by_indicator[key.region_code, key.period, key.sex, key.age_band][key.indicator] = key
    found = [Relation(total, tuple(sorted(parts))) for (_, total), parts in groups.items() if total in present]
    for total_name, part_names in protection.indicator_sums.items():
        for family in by_indicator.values():
            if total_name in family and all(name in family for name in part_names):
                found.append(Relation(family[total_name], tuple(family[name] for name in part_names)))
    return found


Bounds = dict[CellKey | str, tuple[float, float]]


def propagate(bounds: Bounds, relations_: Sequence[Relation]) -> Bounds:
    """Tighten every member's interval through every relation until nothing changes (an attacker's inference)."""
    names = list(bounds)
    index = {name: position for position, name in enumerate(names)}
    lows = [bounds[name][0] for name in names]
    highs = [bounds[name][1] for name in names]
    equations = [(index[relation.total], [index[part] for part in relation.parts]) for relation in relations_]
    touching: list[list[int]] = [[] for _ in names]
    for number, (total, parts) in enumerate(equations):
        for member in (total, *parts):
            touching[member].append(number)
    pending = deque(range(len(equations)))
    queued = [True] * len(equations)
    while pending:
        number = pending.popleft()
        queued[number] = False
        total, parts = equations[number]
        changed = _tighten(total, parts, lows, highs)
        for member in changed:
            for other in touching[member]:
                if not queued[other]:
                    queued[other] = True
                    pending.append(other)
    return {name: (lows[position], highs[position]) for position, name in enumerate(names)}


def _tighten(total: int, parts: list[int], lows: list[float], highs: list[float]) -> list[int]:
    """One relation's inference: total within the parts' sums, each part within total minus the others."""
    changed = []
    sum_lo = sum(lows[part] for part in parts)
    sum_hi = sum(highs[part] for part in parts)
    low, high = max(lows[total], sum_lo), min(highs[total], sum_hi)
    if (low, high) != (lows[total], highs[total]) and low <= high:
        lows[total], highs[total] = low, high
        changed.append(total)
    for part in parts:
        low = max(lows[part], lows[total] - (sum_hi - highs[part]))
        high = min(highs[part], highs[total] - (sum_lo - lows[part]))
        if (low, high) != (lows[part], highs[part]) and low <= high:
            sum_lo += low - lows[part]
            sum_hi += high - highs[part]
            lows[part], highs[part] = low, high
            changed.append(part)
    return changed


def _ledger_relations(
    truth: Mapping[CellKey, int], ledger: Mapping[CellKey, LedgerEntry], threshold: int
) -> tuple[Bounds, Bounds, list[Relation]]:
    """A small change of a cell since its last publication is as sensitive as a small cell: now = before + change."""
    fixed: Bounds = {}
    sensitive: Bounds = {}
    found: list[Relation] = []
    for key, value in truth.items():
        before = ledger.get(key)
        if before is None or before.true_value == value or abs(value - before.true_value) >= threshold:
            continue
        previous, delta = f"previous:{key.text}", f"delta:{key.text}"
        fixed[previous] = _published_bounds(before.published, before.status, threshold)
        sensitive[delta] = (1, _INFINITY)  # an attacker may know the direction (cumulative counts grow)
        if value > before.true_value:
            found.append(Relation(key, (previous, delta)))
        else:
            found.append(Relation(previous, (key, delta)))
    return fixed, sensitive, found


def _published_bounds(value: int | None, status: Status, threshold: int) -> tuple[float, float]:
    """What an attacker knows of a true count from what is published. A withheld count is at least 1 (zero is
    published): primary and complementary withholding look the same."""
    if status is not Status.PUBLISHED or value is None:
        return (1, _INFINITY)
    if value == 0:
        return (0, 0)
    return (max(threshold, value - MAX_NOISE), value + MAX_NOISE)


def protect(
    cells: Iterable[Cell], protection: Protection, ledger: Mapping[CellKey, LedgerEntry] | None = None
) -> Publication:
    """The protected publication of `cells` (true counts), audited against the last publication in `ledger`."""
    ledger = ledger or {}
    truth = {cell.key: cell.value for cell in cells}
    threshold = protection.threshold
    status: dict[CellKey, Status] = {
        key: Status.PRIMARY if 0 < value < threshold else Status.PUBLISHED for key, value in truth.items()
    }
    published = {key: perturb(protection.secret, key, value, threshold) for key, value in truth.items()}
    found = relations(truth, protection)
    fixed, sensitive, changes = _ledger_relations(truth, ledger, threshold)
    found.extend(changes)
    containing: dict[CellKey | str, list[Relation]] = defaultdict(list)
    for relation in found:
        for member in relation.members:
            containing[member].append(relation)
    while True:
        bounds: Bounds = {
            key: _published_bounds(None if state is not Status.PUBLISHED else published[key], state, threshold)
            for key, state in status.items()
        }
        bounds.update(fixed)
        bounds.update(sensitive)
        inferred = propagate(bounds, found)
        pinned = [
            member
            for member in (*(key for key, state in status.items() if state is Status.PRIMARY), *sensitive)
            if inferred[member][0] == inferred[member][1]
        ]
        if not pinned:
            break
        complements = {_complement(member, containing, status, truth, threshold) for member in pinned} - {None}
        if not complements:
            break  # nothing published is related to them at all
        for complement in complements:
            status[cast(CellKey, complement)] = Status.COMPLEMENTARY
    result = tuple(
        ProtectedCell(key, published[key] if status[key] is Status.PUBLISHED else None, status[key])
        for key in sorted(truth)
    )
    new_ledger = {cell.key: LedgerEntry(truth[cell.key], cell.value, cell.status) for cell in result}
    return Publication(result, new_ledger)


def _complement(
    pinned: CellKey | str,
    containing: Mapping[CellKey | str, list[Relation]],
    status: Mapping[CellKey, Status],
    truth: Mapping[CellKey, int],
    threshold: int,
) -> CellKey | None:
    """The smallest published count >= threshold in the relations nearest to `pinned` (breadth first)."""
    seen: set[CellKey | str] = {pinned}
    frontier: list[CellKey | str] = [pinned]
    while frontier:
        members = {
            member for node in frontier for relation in containing[node] for member in relation.members
        } - seen
        candidates = sorted(
            (truth[member], member)
            for member in members
            if isinstance(member, CellKey) and status[member] is Status.PUBLISHED and truth[member] >= threshold
        )
        if candidates:
            return candidates[0][1]
        seen |= members
        frontier = list(members)
    return None


def primary_only(cells: Iterable[Cell], threshold: int = 5) -> tuple[ProtectedCell, ...]:
    """A feed with primary suppression only (exact values elsewhere): what ADR 0005 shows is NOT enough."""
    return tuple(
        ProtectedCell(cell.key, None, Status.PRIMARY)
        if 0 < cell.value < threshold
        else ProtectedCell(cell.key, cell.value, Status.PUBLISHED)
        for cell in sorted(cells, key=lambda cell: cell.key)
    )


def level_allowed(level: RegionLevel, *, ministry: bool) -> bool:
    """The ministry sees district level and above; district officers see every level of their district."""
    return level.district_or_above or not ministry
