"""Real-time identity matching: one record against an index of many persons, timed in process.

Builds a `PersonIndex` from the first record of each child of the seeded generator (`persons` children), then
times `candidates()` for `probes` other records of indexed children (so most probes have a true match) and
reports p50/p95/p99 in milliseconds, the share of probes whose true person is the best candidate, and memory:
the index's numpy arrays and the process's resident memory growth while building it. The model is the one the
service uses when IDENTITY_MATCH_MODEL_PATH is unset (`MatchModel.default()`, the shipped default) unless
`--model` names another; its name, version and checksum are printed.

    .venv/bin/python bench/identity_realtime.py --persons 1000000 --probes 2000 --seed 1
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

# The repository, not bench/: bench/identity.py would shadow the identity package.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.identity_support.generator import generate  # noqa: E402
from identity.domain.blocking import common_tokens  # noqa: E402
from identity.domain.index import PersonIndex  # noqa: E402
from identity.domain.model import MatchModel  # noqa: E402
from identity.domain.records import Record, parse_record  # noqa: E402

GENERATOR_CHUNK = 100_000  # children generated at once, to bound the generator's memory


def _resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _world(persons: int, probes: int, seed: int) -> tuple[list[Record], list[str], list[tuple[Record, str]]]:
    """First records of `persons` children, their person ids, and up to `probes` later records with their truth."""
    indexed: list[Record] = []
    person_ids: list[str] = []
    later: list[tuple[Record, str]] = []
    for chunk in range((persons + GENERATOR_CHUNK - 1) // GENERATOR_CHUNK):
        wanted = min(GENERATOR_CHUNK, persons - len(indexed))
        data = generate(seed * 1000 + chunk, wanted)
        seen: set[str] = set()
        for raw in data.records:
            child = f"{chunk}:{data.truth[raw['record_id']]}"
            record = parse_record(raw)
            if child not in seen and len(indexed) < persons:
                seen.add(child)
                indexed.append(record)
                person_ids.append(child)
            elif child in seen and len(later) < probes * 4:
                later.append((record, child))
        del data
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(later), size=min(probes, len(later)), replace=False)
    return indexed, person_ids, [later[i] for i in chosen.tolist()]


def run(persons: int, probes: int, seed: int, model: MatchModel | None = None) -> dict[str, object]:
    """Build the index, time the probes; the figures as a dict."""
    indexed, person_ids, probe_records = _world(persons, probes, seed)
    gc.collect()
    before = _resident_bytes()
    started = time.perf_counter()
    model = model or MatchModel.default()  # what the service uses when IDENTITY_MATCH_MODEL_PATH is unset
    index = PersonIndex(model, common_tokens(indexed[:100_000]))
    index.add_many(indexed, person_ids)
    build_seconds = time.perf_counter() - started
    gc.collect()
    index_resident = _resident_bytes() - before
    del indexed
    timings, best_is_true = [], 0
    for record, truth in probe_records:
        started = time.perf_counter()
        found = index.candidates(record)
        timings.append((time.perf_counter() - started) * 1000)
        best_is_true += bool(found) and found[0].person_id == truth
    added = time.perf_counter()
    for record, truth in probe_records[:200]:
        index.add(record, truth)  # the incremental path, as the service uses it
    add_ms = (time.perf_counter() - added) * 1000 / max(1, min(200, len(probe_records)))
    milliseconds = np.array(timings)
    identity = model.identity()
    return {
        "model": f"{identity.name} {identity.version} ({identity.checksum})",
        "persons": len(index),
        "probes": len(timings),
        "build_s": round(build_seconds, 1),
        "p50_ms": round(float(np.percentile(milliseconds, 50)), 2),
        "p95_ms": round(float(np.percentile(milliseconds, 95)), 2),
        "p99_ms": round(float(np.percentile(milliseconds, 99)), 2),
        "add_ms_mean": round(add_ms, 3),
        "best_candidate_is_true_person": round(best_is_true / max(1, len(timings)), 4),
        "index_arrays_mb": round(index.nbytes / 2**20, 1),
        "index_resident_mb": round(index_resident / 2**20, 1),
        "peak_resident_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--probes", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", type=Path, help="match parameters (JSON) from `simpul identity dedupe --model`")
    arguments = parser.parse_args()
    model = MatchModel.from_json(arguments.model.read_text(encoding="utf-8")) if arguments.model else None
    print(json.dumps(run(arguments.persons, arguments.probes, arguments.seed, model), indent=2))


if __name__ == "__main__":
    main()
