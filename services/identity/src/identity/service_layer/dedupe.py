"""Batch deduplication: a CSV of source records in, one person per child out.

`read_records` refuses a file whose header is wrong and counts unusable values (treated as empty) per column;
`dedupe_records` blocks, compares, estimates the model (unless one is given; the shipped default while the input
holds too few sure pairs to settle it), scores (with the data's own match rate,
given model or not: see `model.pair_match_rate`) and clusters; the candidate pairs are compared in chunks on
`workers` processes (default: every CPU this process may use; 1 compares in this process), which changes nothing
but the time;
`write_clusters` writes `record_id,person_id` (and score, decision) for every input record, in input order.
"""

from __future__ import annotations

import csv
import hashlib
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from identity.domain.blocking import blocking_keys, candidate_pairs, common_tokens
from identity.domain.clustering import ScoredPairs, against, certain, cluster, vetoes
from identity.domain.comparisons import (
    FIELD_INDEX,
    FIELDS,
    Levels,
    Pairs,
    compare,
    evidence,
    fitting_nik,
    level,
    nik_conflicts,
)
from identity.domain.model import MatchModel, estimate, pair_match_rate, probability
from identity.domain.records import Record, parse_record
from identity.domain.table import IntArray, RecordTable

COLUMNS = (
    "record_id",
    "source",
    "full_name",
    "sex",
    "birth_date",
    "birth_date_precision",
    "nik",
    "kk_number",
    "mother_name",
    "village_code",
)
CHUNK = 200_000  # pairs compared at once: bounds memory, paces progress
RANDOM_PAIRS = 300_000
# Sure matches and sure non-matches each, before the input's own parameters replace the model in force (the
# shipped default): a level seen in 2% of matches is then counted about 40 times (within ~0.2 bits). Below it
# the command decides as the service does until it holds enough records to re-estimate (issue 9: one engine):
# from ~2,000 records (500 such pairs) the estimate linked about 0.01 F1 worse than the default model.
MIN_PAIRS_TO_ESTIMATE = 2_000
NIK_SAME = level("nik", "same")
Progress = Callable[[str, int, int], None]
"""Called with a stage name, the work done and the work in that stage."""


class UnusableInput(Exception):
    """The file cannot be read as records: the message names the row and column."""


@dataclass(frozen=True)
class ReadRecords:
    """Parsed records in file order, and how many values per column were unusable (read as empty)."""

    records: list[Record]
    unusable_values: Counter[str] = field(default_factory=Counter)


@dataclass
class DedupeResult:
    """Every record's person, best score and decision, the model used, the data's match rate that replaced its
    prior (None: too few pairs sharing a NIK to tell, the model's prior was used), and the blocking candidates."""

    person_of: dict[str, str]
    score_of: dict[str, float]
    decision_of: dict[str, str]
    candidate_pairs: int
    model: MatchModel
    match_rate: float | None = None
    _row_of: dict[str, int] = field(repr=False, default_factory=dict)
    _candidate_codes: IntArray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))

    def is_candidate(self, record_a: str, record_b: str) -> bool:
        """Whether blocking put the two records in one block (so they were compared)."""
        a, b = sorted((self._row_of[record_a], self._row_of[record_b]))
        code = a * len(self._row_of) + b
        position = int(np.searchsorted(self._candidate_codes, code))
        return position < len(self._candidate_codes) and int(self._candidate_codes[position]) == code


def read_records(path: Path) -> ReadRecords:
    """Records of a batch CSV; UnusableInput for a wrong header, a duplicate or missing record_id."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            return _parse(csv.reader(lines))
    except UnicodeDecodeError as error:
        raise UnusableInput(f"{path}: not UTF-8 text (byte {error.start})") from None
    except csv.Error as error:
        raise UnusableInput(f"{path}: {error}") from None


def _parse(rows: csv.Reader) -> ReadRecords:  # type: ignore[name-defined]
    header = next(rows, None)
    if header is None:
        raise UnusableInput("row 1: the file is empty, expected the header " + ",".join(COLUMNS))
    header = [column.strip() for column in header]
    missing, extra = [c for c in COLUMNS if c not in header], [c for c in header if c not in COLUMNS]
    if missing or extra or len(header) != len(COLUMNS):
        problems = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + (
            [f"unexpected column(s) {', '.join(extra)}"] if extra else []
        )
        problem = "; ".join(problems)
        raise UnusableInput(f"row 1 (header): {problem or 'a column appears twice'}")
    records, unusable, seen = [], Counter[str](), set[str]()
    for number, values in enumerate(rows, start=2):
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(header):
            raise UnusableInput(f"row {number}: {len(values)} values, expected {len(header)}")
        record = parse_record(dict(zip(header, values, strict=True)))
        if not record.record_id:
            raise UnusableInput(f"row {number}, column record_id: empty")
        if record.record_id in seen:
            raise UnusableInput(f"row {number}, column record_id: {record.record_id!r} appears twice")
        seen.add(record.record_id)
        unusable.update(record.problems)
        records.append(record)
    return ReadRecords(records, unusable)


def dedupe_records(
    records: Sequence[Record],
    *,
    model: MatchModel | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> DedupeResult:
    """One person per child: block, compare, estimate the model (unless given), score, cluster; `workers`
    processes compare the pairs (None: one per usable CPU)."""
    report = progress or (lambda _stage, _done, _total: None)
    table = RecordTable.of(records)
    common = common_tokens(records)
    left, right = candidate_pairs([blocking_keys(record, common) for record in records])
    report("blocking", len(records), len(records))
    # Estimating compares random pairs too: drawn now, so that workers compare them beside the candidates.
    random_pairs = None if model is not None else _random_pairs(table.size)
    levels, random_levels = _compare_in_chunks(
        table, left, right, report, workers or _usable_cpus(), random_pairs=random_pairs
    )
    all_pairs = Pairs(table, left, table, right)
    conflicts, fitting = nik_conflicts(all_pairs), fitting_nik(all_pairs)
    rate = _match_rate(table, levels)
    if model is None:
        model = _estimated(table, levels, conflicts, rate, random_levels)
    report("estimating", 1, 1)
    weights = model.scores(levels, evidence(levels, fitting), prior=rate)
    sure = certain(levels, fitting)
    vetoed = vetoes(levels, conflicts, sure)
    own_niks = np.where(table.nik_childs[: table.size], table.nik[: table.size], 0)
    clusters = cluster(
        len(records),
        ScoredPairs(left, right, weights, probability(weights), vetoed, sure, against(weights, sure)),
        own_niks,
        auto_link=model.auto_link,
        review=model.review,
    )
    report("clustering", 1, 1)
    ids = [record.record_id for record in records]
    person_ids = {int(label): _person_id(ids[int(label)]) for label in np.unique(clusters.label)}
    return DedupeResult(
        person_of={ids[row]: person_ids[int(label)] for row, label in enumerate(clusters.label)},
        score_of=dict(zip(ids, clusters.score.round(4).tolist(), strict=True)),
        decision_of=dict(zip(ids, clusters.decision, strict=True)),
        candidate_pairs=len(left),
        model=model,
        match_rate=rate,
        _row_of={record_id: row for row, record_id in enumerate(ids)},
        _candidate_codes=left * len(records) + right,
    )


def write_clusters(result: DedupeResult, path: Path, *, with_scores: bool = False) -> None:
    """`record_id,person_id` (plus `score,decision`) for every record, in input order."""
    with path.open("w", encoding="utf-8", newline="") as output:
        writer = csv.writer(output)
        writer.writerow(("record_id", "person_id", "score", "decision") if with_scores else ("record_id", "person_id"))
        for record_id, person_id in result.person_of.items():
            extra = (f"{result.score_of[record_id]:.4f}", result.decision_of[record_id]) if with_scores else ()
            writer.writerow((record_id, person_id, *extra))


def _compare_in_chunks(
    table: RecordTable,
    left: IntArray,
    right: IntArray,
    report: Progress,
    workers: int,
    *,
    random_pairs: tuple[IntArray, IntArray] | None = None,
) -> tuple[Levels, Levels | None]:
    """The candidates' levels; and the random pairs' when there is a pool to compare them in (else None: compared
    later in this process, only if the estimate needs them)."""
    levels = np.zeros((len(left), len(FIELDS)), dtype=np.int8)
    bounds = [(start, min(start + CHUNK, len(left))) for start in range(0, len(left), CHUNK)]
    if workers > 1 and len(bounds) > 1 and "fork" in multiprocessing.get_all_start_methods():
        # Forked workers read the table and pairs from this process's memory (set before the fork, not pickled)
        # and send back only the levels, chunk by chunk in order.
        global _SHARED  # noqa: PLW0603
        _SHARED = (table, (left, right), random_pairs)
        try:
            with ProcessPoolExecutor(min(workers, len(bounds)), mp_context=multiprocessing.get_context("fork")) as pool:
                random = None if random_pairs is None else pool.submit(_compare_shared, (1, 0, len(random_pairs[0])))
                chunks = pool.map(_compare_shared, [(0, start, stop) for start, stop in bounds])
                for (start, stop), chunk in zip(bounds, chunks, strict=True):
                    levels[start:stop] = chunk
                    report("comparing", stop, len(left))
                return levels, None if random is None else random.result()
        finally:
            _SHARED = None
    for start, stop in bounds:
        levels[start:stop] = compare(Pairs(table, left[start:stop], table, right[start:stop]))
        report("comparing", stop, len(left))
    return levels, None


_SHARED: tuple[RecordTable, tuple[IntArray, IntArray], tuple[IntArray, IntArray] | None] | None = None


def _compare_shared(task: tuple[int, int, int]) -> Levels:
    """In a worker: the levels of pairs start:stop of the candidates (which 0) or of the random pairs (1)."""
    if _SHARED is None:
        raise RuntimeError("no pairs to compare: _compare_in_chunks sets them before the fork")
    table, candidates, random_pairs = _SHARED
    which, start, stop = task
    pairs = candidates if which == 0 or random_pairs is None else random_pairs
    return compare(Pairs(table, pairs[0][start:stop], table, pairs[1][start:stop]))


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _match_rate(table: RecordTable, candidates: Levels) -> float | None:
    """The data's chance that two records are one child (see `model.pair_match_rate`), None if it cannot tell."""
    same_nik = int((candidates[:, FIELD_INDEX["nik"]] == NIK_SAME).sum())
    return pair_match_rate(same_nik, int(table.nik_childs[: table.size].sum()), table.size)


def _estimated(table: RecordTable, candidates: Levels, conflicts: npt.NDArray[np.bool_],
               rate: float | None, random_levels: Levels | None = None) -> MatchModel:
    """Parameters from this data when there is enough of it, else the shipped default model; `random_levels`
    those of `_random_pairs` if already compared."""
    sure_matches = candidates[:, FIELD_INDEX["nik"]] == NIK_SAME
    if rate is None or min(sure_matches.sum(), conflicts.sum()) < MIN_PAIRS_TO_ESTIMATE:
        return MatchModel.default()
    if random_levels is None:
        left, right = _random_pairs(table.size)
        random_levels = compare(Pairs(table, left, table, right))
    return estimate(
        candidates,
        sure_matches=sure_matches,
        sure_non_matches=conflicts,
        random_pairs=random_levels,
        pair_match_rate=rate,
    )


def _random_pairs(size: int) -> tuple[IntArray, IntArray]:
    """The pairs of rows for the estimate's u parameters: fixed, so the same input gives the same persons."""
    generator = np.random.default_rng(20240601)
    left = generator.integers(0, size, RANDOM_PAIRS)
    right = generator.integers(0, size, RANDOM_PAIRS)
    keep = left != right
    return left[keep], right[keep]


def _person_id(first_record_id: str) -> str:
    """A stable, opaque person id derived from the person's first record."""
    return "per_" + hashlib.sha256(first_record_id.encode()).hexdigest()[:24]
