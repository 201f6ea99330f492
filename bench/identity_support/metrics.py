"""Quality of a clustering of records against the true children.

All measures work from the contingency counts of (predicted cluster, true child), never from all record pairs:
* pairwise precision / recall / F1 over record pairs put together (predicted) and belonging together (true);
* B-cubed precision / recall / F1 (per record, averaged over records);
* blocking recall: share of true matching record pairs that the matcher considered at all;
* twin/sibling over-merges: distinct true twin or sibling child pairs with records in one predicted cluster;
* review share: share of records whose decision is "review".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from itertools import combinations


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Pairwise:
    precision: float
    recall: float
    f1: float
    true_positives: int
    predicted_pairs: int
    true_pairs: int


@dataclass(frozen=True)
class BCubed:
    precision: float
    recall: float
    f1: float


def pairwise(predicted: Mapping[str, str], truth: Mapping[str, str]) -> Pairwise:
    """Pairwise precision/recall/F1 of `predicted` (record id -> cluster id) against `truth` (record id -> true
    entity id). Records missing from `predicted` count as singletons."""
    cells: Counter[tuple[str, str]] = Counter()
    pred_sizes: Counter[str] = Counter()
    true_sizes: Counter[str] = Counter()
    for record_id, entity in truth.items():
        cluster = predicted.get(record_id, f"\0singleton:{record_id}")
        cells[(cluster, entity)] += 1
        pred_sizes[cluster] += 1
        true_sizes[entity] += 1
    tp = sum(_pairs(n) for n in cells.values())
    pp = sum(_pairs(n) for n in pred_sizes.values())
    tt = sum(_pairs(n) for n in true_sizes.values())
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    return Pairwise(precision, recall, _f1(precision, recall), tp, pp, tt)


def bcubed(predicted: Mapping[str, str], truth: Mapping[str, str]) -> BCubed:
    """B-cubed precision/recall/F1: for each record, the share of its predicted cluster that is truly its entity
    (precision) and the share of its entity found in its cluster (recall), averaged over records."""
    cells: Counter[tuple[str, str]] = Counter()
    pred_sizes: Counter[str] = Counter()
    true_sizes: Counter[str] = Counter()
    for record_id, entity in truth.items():
        cluster = predicted.get(record_id, f"\0singleton:{record_id}")
        cells[(cluster, entity)] += 1
        pred_sizes[cluster] += 1
        true_sizes[entity] += 1
    total = len(truth) or 1
    precision = sum(n * n / pred_sizes[c] for (c, _), n in cells.items()) / total
    recall = sum(n * n / true_sizes[e] for (_, e), n in cells.items()) / total
    return BCubed(precision, recall, _f1(precision, recall))


def true_pairs(truth: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """Every pair of records of the same true entity."""
    by_entity: dict[str, list[str]] = defaultdict(list)
    for record_id, entity in truth.items():
        by_entity[entity].append(record_id)
    for records in by_entity.values():
        yield from combinations(sorted(records), 2)


def blocking_recall(truth: Mapping[str, str], is_candidate: Callable[[str, str], bool]) -> float:
    """Share of true matching record pairs for which `is_candidate(a, b)` says they were compared."""
    total = found = 0
    for a, b in true_pairs(truth):
        total += 1
        found += bool(is_candidate(a, b))
    return found / total if total else 1.0


def related_over_merges(
    predicted: Mapping[str, str],
    truth: Mapping[str, str],
    related: Iterable[tuple[str, str, str]],
) -> dict[str, int]:
    """How many true twin / sibling child pairs have records in one predicted cluster, by kind and in total."""
    clusters_of: dict[str, set[str]] = defaultdict(set)
    for record_id, entity in truth.items():
        clusters_of[entity].add(predicted.get(record_id, f"\0singleton:{record_id}"))
    counts = {"twin": 0, "sibling": 0}
    for a, b, kind in related:
        if clusters_of.get(a, set()) & clusters_of.get(b, set()):
            counts[kind] = counts.get(kind, 0) + 1
    counts["total"] = counts["twin"] + counts["sibling"]
    return counts


def review_share(decisions: Mapping[str, str]) -> float:
    """Share of records whose decision is "review" (0 when the matcher gives no decisions)."""
    if not decisions:
        return 0.0
    return sum(1 for d in decisions.values() if d == "review") / len(decisions)


def summary(
    predicted: Mapping[str, str],
    truth: Mapping[str, str],
    related: Iterable[tuple[str, str, str]],
    decisions: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """All cluster-based measures of one run, as plain data."""
    pw = pairwise(predicted, truth)
    b3 = bcubed(predicted, truth)
    return {
        "pairwise": asdict(pw),
        "bcubed": asdict(b3),
        "over_merges": related_over_merges(predicted, truth, related),
        "review_share": review_share(decisions or {}),
    }
