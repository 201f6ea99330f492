"""Identity benchmark: our batch dedupe against Splink 5 on DuckDB, side by side, on generated child records.

For each seed (development seeds, then held-out seeds) `identity_support.generator` builds households, villages and
children and observes them through four sources with realistic corruption (see that module for the rates). Then:

* OURS: the records are written to CSV and `simpul identity dedupe --input records.csv --output clusters.csv` runs
  as a subprocess (the real user path, wall-clock timed). Until that command exists, a trivial in-process baseline
  (exact normalised name + birth date) stands in and is labelled as such. Blocking recall comes from the in-process
  `identity.service_layer.dedupe.dedupe_records` when it is importable (untimed), else it is not reported.
* SPLINK: the same CSV through `identity_support/run_splink.py` in its own pinned venv (.local/bench-splink, made on
  first use). Its clusters at each threshold of a sweep are scored here; the best-F1 threshold (an oracle choice, in
  Splink's favour) is reported. Wall time = cleaning + training + prediction + clustering at that threshold; the
  sweep itself is not timed.

Measures: pairwise precision/recall/F1, B-cubed F1, blocking recall, twin/sibling over-merges (true twin or sibling
pairs put in one cluster), share of records sent to review, wall time; per seed and per group (pairwise figures
pooled over the group's seeds). `--speed-records` adds a separate run on about that many records. The acceptance
checks of the issue are printed as PASS/FAIL lines and everything goes to .local/bench/identity.json.

`--vary` draws each seed's generator settings (`generator.Variation.drawn`: typo and respelling rates, dropped and
reordered name parts, short forms, share of missing NIKs, moves, twins) and prints, per group, the spread over
seeds (min / median / max) of precision, recall, F1, the F1 margin over Splink and the review share.
`--live` runs bench/identity_live.py instead (the live path through registry, the broker and identity's consumer,
against batch and Splink, at `--children`). `--write-default-model` regenerates the identity service's shipped
default model (see `identity_support/default_model.py`) and exits.

Run:  .venv/bin/python bench/identity.py [--children 20000] [--dev-seeds 1,2,3] [--heldout-seeds 101,102,103]
          [--skip-splink] [--speed-records 100000] [--realtime] [--vary] [--write-default-model] [--live]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# Running this file puts bench/ first on sys.path, where this module would shadow the `identity` service package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(REPO))

from bench.identity_support import metrics, splink_env  # noqa: E402
from bench.identity_support.generator import (  # noqa: E402
    Dataset,
    Variation,
    children_for_records,
    generate,
    write_csv,
)

SIMPUL = REPO / ".venv" / "bin" / "simpul"
OUT = REPO / ".local" / "bench" / "identity.json"
OURS_TIMEOUT_S = 1800
SPLINK_TIMEOUT_S = 3600
SPEED_SEED = 9001
SPEED_LIMIT_S = 60.0
F1_MARGIN = 0.06  # over Splink's oracle-best F1 (issue 9)
REVIEW_LIMIT = 0.05  # share of records left in review
SPEED_FACTOR = 2.0  # times faster than Splink on the speed run


def log(message: str) -> None:
    print(f"[identity-bench] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------- ours


def cli_available() -> bool:
    if not SIMPUL.exists():
        return False
    probe = subprocess.run(
        [str(SIMPUL), "identity", "dedupe", "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    return probe.returncode == 0


def read_clusters(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    predicted: dict[str, str] = {}
    decisions: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            predicted[row["record_id"]] = row["person_id"]
            if row.get("decision"):
                decisions[row["record_id"]] = row["decision"]
    return predicted, decisions


def _norm(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z ]+", " ", folded).split())


def baseline(records: list[dict[str, str]]) -> dict[str, str]:
    """Stand-in until `simpul identity dedupe` exists: the same normalised name and birth date is one person."""
    return {r["record_id"]: f"{_norm(r['full_name'])}|{r['birth_date']}" for r in records}


def run_ours(dataset: Dataset, workdir: Path, use_cli: bool) -> dict[str, Any]:
    records_csv, clusters_csv = workdir / "records.csv", workdir / "clusters.csv"
    write_csv(dataset.records, records_csv)
    started = time.perf_counter()
    if use_cli:
        done = subprocess.run(
            [str(SIMPUL), "identity", "dedupe", "--input", str(records_csv), "--output", str(clusters_csv)],
            capture_output=True,
            text=True,
            timeout=OURS_TIMEOUT_S,
            check=False,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"simpul identity dedupe failed ({done.returncode}): {done.stderr[-2000:]}")
        predicted, decisions = read_clusters(clusters_csv)
    else:
        predicted, decisions = baseline(dataset.records), {}
        wall = time.perf_counter() - started
    result = metrics.summary(predicted, dataset.truth, dataset.related_pairs(), decisions)
    result.update(matcher="simpul identity dedupe" if use_cli else "baseline (exact name + birth date)", wall_s=wall)
    result["blocking_recall"] = our_blocking_recall(dataset, records_csv)
    return result


def _candidate_check(result: Any) -> Callable[[str, str], bool] | None:
    for name in ("is_candidate", "was_candidate", "is_blocking_candidate", "blocking_candidate", "candidate"):
        check = getattr(result, name, None)
        if callable(check):
            return check
    pairs = getattr(result, "candidate_pairs", None)
    if pairs is not None:
        return lambda a, b: (a, b) in pairs or (b, a) in pairs
    return None


def _in_process_records(records_csv: Path, dataset: Dataset) -> Any:
    """The records as the in-process API takes them: parsed from the CSV by its own reader when it has one."""
    try:
        from identity.service_layer.dedupe import read_records  # noqa: PLC0415
    except ImportError:
        return dataset.records
    return read_records(records_csv).records


def our_blocking_recall(dataset: Dataset, records_csv: Path) -> float | None:
    """From the in-process API when it exists (untimed); None otherwise."""
    try:
        from identity.service_layer.dedupe import dedupe_records  # noqa: PLC0415
    except Exception:  # absent or broken: the benchmark still runs
        return None
    try:
        check = _candidate_check(dedupe_records(_in_process_records(records_csv, dataset)))
        return metrics.blocking_recall(dataset.truth, check) if check else None
    except Exception as error:
        log(f"blocking recall of ours not measured: {error!r}")
        return None


# ----------------------------------------------------------------------------------------------- splink


def _write_true_pairs(truth: Mapping[str, str], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b"])
        writer.writerows(metrics.true_pairs(truth))


def _sweep(dataset: Dataset, clusters_csv: Path) -> dict[float, dict[str, Any]]:
    with clusters_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    scored: dict[float, dict[str, Any]] = {}
    for column in rows[0] if rows else {}:
        if column.startswith("t"):
            predicted = {r["record_id"]: r[column] for r in rows}
            scored[float(column[1:])] = metrics.summary(predicted, dataset.truth, dataset.related_pairs())
    return scored


def run_splink(dataset: Dataset, workdir: Path, seed: int) -> dict[str, Any]:
    records_csv, clusters_csv, meta_json = workdir / "records.csv", workdir / "splink.csv", workdir / "splink.json"
    pairs_csv = workdir / "true_pairs.csv"
    _write_true_pairs(dataset.truth, pairs_csv)
    args = ["--input", str(records_csv), "--output", str(clusters_csv), "--meta", str(meta_json)]
    done = splink_env.run([*args, "--seed", str(seed), "--check-pairs", str(pairs_csv)], timeout=SPLINK_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"Splink run failed ({done.returncode}): {done.stderr[-3000:]}")
    meta = json.loads(meta_json.read_text())
    sweep = _sweep(dataset, clusters_csv)
    best = max(sweep, key=lambda t: (sweep[t]["pairwise"]["f1"], -t))
    timings = meta["timings"]
    fixed = timings["load_clean_s"] + timings["train_s"] + timings["predict_s"]
    result = dict(sweep[best])
    blocking = meta.get("blocking") or {}
    result.update(
        matcher="Splink 5.0.0 / DuckDB",
        threshold=best,
        wall_s=fixed + timings["cluster_s"][str(best)],
        timings=timings,
        compared_pairs=meta.get("compared_pairs"),
        blocking_recall=blocking["compared"] / blocking["true_pairs"] if blocking.get("true_pairs") else None,
        sweep={str(t): _brief(s) for t, s in sorted(sweep.items())},
    )
    return result


def _brief(scored: Mapping[str, Any]) -> dict[str, Any]:
    pw = scored["pairwise"]
    return {
        "precision": pw["precision"],
        "recall": pw["recall"],
        "f1": pw["f1"],
        "true_positives": pw["true_positives"],
        "predicted_pairs": pw["predicted_pairs"],
        "true_pairs": pw["true_pairs"],
        "bcubed_f1": scored["bcubed"]["f1"],
        "over_merges": scored["over_merges"]["total"],
    }


# ----------------------------------------------------------------------------------------------- runs


def run_seed(
    seed: int, children: int, use_cli: bool, skip_splink: bool, variation: Variation | None = None
) -> dict[str, Any]:
    dataset = generate(seed, children, variation)
    log(f"seed {seed}: {len(dataset.records):,} records of {dataset.children:,} children ({variation or 'default'})")
    with tempfile.TemporaryDirectory(prefix="identity-bench-") as tmp:
        workdir = Path(tmp)
        ours = run_ours(dataset, workdir, use_cli)
        log(f"seed {seed}: ours F1 {ours['pairwise']['f1']:.4f} in {ours['wall_s']:.1f} s")
        splink = None if skip_splink else run_splink(dataset, workdir, seed)
        if splink:
            log(f"seed {seed}: Splink F1 {splink['pairwise']['f1']:.4f} at {splink['threshold']}")
    return {
        "seed": seed,
        "variation": vars(variation) if variation else None,
        "records": len(dataset.records),
        "children": dataset.children,
        "true_pairs": ours["pairwise"]["true_pairs"],
        "twin_pairs": len(dataset.twins),
        "sibling_pairs": len(dataset.siblings),
        "ours": ours,
        "splink": splink,
    }


def _pooled(runs: list[dict[str, Any]], side: str) -> dict[str, Any] | None:
    results = [r[side] for r in runs if r[side]]
    if not results:
        return None
    tp = sum(r["pairwise"]["true_positives"] for r in results)
    pp = sum(r["pairwise"]["predicted_pairs"] for r in results)
    tt = sum(r["pairwise"]["true_pairs"] for r in results)
    precision, recall = (tp / pp if pp else 1.0), (tp / tt if tt else 1.0)
    recalls = [r["blocking_recall"] for r in results if r.get("blocking_recall") is not None]
    return {
        "pairwise": {
            "precision": precision,
            "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        },
        "bcubed": {"f1": sum(r["bcubed"]["f1"] for r in results) / len(results)},
        "blocking_recall": sum(recalls) / len(recalls) if recalls else None,
        "over_merges": {"total": sum(r["over_merges"]["total"] for r in results)},
        "review_share": sum(r["review_share"] for r in results) / len(results),
        "wall_s": sum(r["wall_s"] for r in results),
        "threshold": ",".join(str(r["threshold"]) for r in results) if side == "splink" else None,
    }


def group(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": name,
        "seeds": [r["seed"] for r in runs],
        "records": sum(r["records"] for r in runs),
        "children": sum(r["children"] for r in runs),
        "ours": _pooled(runs, "ours"),
        "splink": _pooled(runs, "splink"),
    }


# ----------------------------------------------------------------------------------------------- output


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(title: str, row: Mapping[str, Any]) -> None:
    ours, splink = row["ours"], row.get("splink")
    print(f"\n{title}: {row['records']:,} records, {row['children']:,} children")
    print(f"  {'measure':<26}{'ours':>14}{'Splink':>14}")
    lines = (
        ("pairwise precision", lambda r: r["pairwise"]["precision"]),
        ("pairwise recall", lambda r: r["pairwise"]["recall"]),
        ("pairwise F1", lambda r: r["pairwise"]["f1"]),
        ("B-cubed F1", lambda r: r["bcubed"]["f1"]),
        ("blocking recall", lambda r: r.get("blocking_recall")),
        ("twin/sibling over-merges", lambda r: r["over_merges"]["total"]),
        ("review share", lambda r: r["review_share"]),
        ("wall time (s)", lambda r: f"{r['wall_s']:.1f}"),
    )
    for label, get in lines:
        print(f"  {label:<26}{_fmt(get(ours)):>14}{_fmt(get(splink)) if splink else '-':>14}")
    if splink:
        print(f"  Splink best threshold (oracle): {splink['threshold']}")
    print(f"  ours = {ours.get('matcher', 'simpul identity dedupe')}")


def acceptance(heldout: list[dict[str, Any]], speed: dict[str, Any] | None) -> list[tuple[str, bool | None]]:
    checks: list[tuple[str, bool | None]] = []
    for run in heldout:
        ours, splink, seed = run["ours"], run["splink"], run["seed"]
        checks.append((f"held-out seed {seed}: >= 20,000 children ({run['children']:,})", run["children"] >= 20_000))
        checks.append((f"held-out seed {seed}: pairwise precision >= 0.98", ours["pairwise"]["precision"] >= 0.98))
        gap = ours["pairwise"]["f1"] - splink["pairwise"]["f1"] if splink else None
        checks.append((f"held-out seed {seed}: F1 >= Splink best F1 + {F1_MARGIN} (gap {_fmt(gap)})",
                       None if gap is None else gap >= F1_MARGIN))  # fmt: skip
        share = ours["review_share"]
        checks.append((f"held-out seed {seed}: review share <= {REVIEW_LIMIT:.0%} ({share:.4f})",
                       share <= REVIEW_LIMIT))  # fmt: skip
        fewer = ours["over_merges"]["total"] < splink["over_merges"]["total"] if splink else None
        checks.append((f"held-out seed {seed}: fewer twin/sibling over-merges than Splink", fewer))
    if speed:
        ours_s = speed["ours"]["wall_s"]
        checks.append((f"speed: {speed['records']:,} records in <= 60 s ({ours_s:.1f} s)", ours_s <= SPEED_LIMIT_S))
        splink = speed.get("splink")
        factor = splink["wall_s"] / ours_s if splink and ours_s else None
        checks.append((f"speed: >= {SPEED_FACTOR:.0f}x faster than Splink ({_fmt(factor, 2)}x)",
                       None if factor is None else factor >= SPEED_FACTOR))  # fmt: skip
    return checks


def spread(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Min / median / max over the group's seeds of the quality figures (not pooled: the spread of data sets)."""
    measures: dict[str, Callable[[dict[str, Any]], float | None]] = {
        "precision": lambda r: r["ours"]["pairwise"]["precision"],
        "recall": lambda r: r["ours"]["pairwise"]["recall"],
        "F1": lambda r: r["ours"]["pairwise"]["f1"],
        "Splink best F1": lambda r: r["splink"]["pairwise"]["f1"] if r["splink"] else None,
        "F1 margin over Splink": lambda r: (
            r["ours"]["pairwise"]["f1"] - r["splink"]["pairwise"]["f1"] if r["splink"] else None
        ),
        "review share": lambda r: r["ours"]["review_share"],
        "over-merges": lambda r: float(r["ours"]["over_merges"]["total"]),
    }
    figures: dict[str, Any] = {}
    print(f"\n{name}: spread over seeds {[r['seed'] for r in runs]} (min / median / max)")
    for label, get in measures.items():
        values = [v for v in (get(r) for r in runs) if v is not None]
        if values:
            figures[label] = (min(values), statistics.median(values), max(values))
            print(f"  {label:<26}{min(values):>10.4f}{statistics.median(values):>10.4f}{max(values):>10.4f}")
    return figures


def print_checks(checks: list[tuple[str, bool | None]]) -> None:
    print("\nAcceptance")
    for label, ok in checks:
        print(f"  {'SKIP' if ok is None else 'PASS' if ok else 'FAIL'}  {label}")


def run_realtime(seed: int) -> dict[str, Any] | None:
    path = BENCH / "identity_realtime.py"
    if not path.exists():
        log("bench/identity_realtime.py not found: real-time run skipped")
        return None
    spec = importlib.util.spec_from_file_location("identity_realtime_bench", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result: dict[str, Any] = module.run(1_000_000, 2000, seed)
    print("\nReal-time index (1,000,000 persons, 2,000 probes)")
    for key, value in result.items():
        print(f"  {key:<30}{_fmt(value, 3)}")
    return result


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=20_000)
    parser.add_argument("--dev-seeds", default="1,2,3")
    parser.add_argument("--heldout-seeds", default="101,102,103")
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument("--speed-records", type=int, default=100_000, help="0 skips the speed run")
    parser.add_argument("--realtime", action="store_true")
    parser.add_argument("--live", action="store_true",
                        help="the live path at --children instead (bench/identity_live.py: registry, broker, "
                             "identity's consumer; Splink unless --skip-splink)")
    parser.add_argument("--vary", action="store_true", help="draw each seed's generator settings (see the docstring)")
    parser.add_argument("--write-default-model", action="store_true", help="regenerate the shipped default model")
    return parser.parse_args()


def _seeds(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def speed_run(records: int, use_cli: bool, skip_splink: bool) -> dict[str, Any]:
    log(f"speed run: about {records:,} records")
    run = run_seed(SPEED_SEED, children_for_records(records), use_cli, skip_splink)
    table(f"Speed run (seed {SPEED_SEED})", run)
    return run


def main() -> None:
    args = parse_args()
    if args.live:
        from bench import identity_live  # noqa: PLC0415

        identity_live.main(["--children", str(args.children), *([] if args.skip_splink else ["--splink"])])
        return
    if args.write_default_model:
        from bench.identity_support import default_model  # noqa: PLC0415

        model = default_model.write()
        log(f"default model {model.identity()} written to {default_model.SHIPPED}")
        return
    use_cli = cli_available()
    if not use_cli:
        log("`simpul identity dedupe` not available: using the exact name + birth date baseline as 'ours'")
    if not args.skip_splink:
        splink_env.ensure()
    log(f"{os.cpu_count()} CPUs")
    runs: dict[str, list[dict[str, Any]]] = {"development": [], "held-out": []}
    for name, seeds in (("development", _seeds(args.dev_seeds)), ("held-out", _seeds(args.heldout_seeds))):
        for seed in seeds:
            run = run_seed(seed, args.children, use_cli, args.skip_splink, Variation.drawn(seed) if args.vary else None)
            runs[name].append(run)
            table(f"{name} seed {seed}", run)
    groups = [group(name, group_runs) for name, group_runs in runs.items() if group_runs]
    for g in groups:
        table(f"{g['name'].upper()} seeds {g['seeds']} (pairwise pooled)", g)
    spreads = {name: spread(f"{name.upper()}{' (varied settings)' if args.vary else ''}", group_runs)
               for name, group_runs in runs.items() if group_runs}  # fmt: skip
    speed = speed_run(args.speed_records, use_cli, args.skip_splink) if args.speed_records else None
    checks = acceptance(runs["held-out"], speed)
    print_checks(checks)
    realtime = run_realtime(_seeds(args.heldout_seeds)[0] if args.heldout_seeds else 1) if args.realtime else None
    OUT.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "ours_matcher": "simpul identity dedupe" if use_cli else "baseline (exact name + birth date)",
        "runs": runs,
        "groups": groups,
        "spreads": spreads,
        "varied": args.vary,
        "speed": speed,
        "acceptance": [{"check": label, "result": ok} for label, ok in checks],
        "realtime": realtime,
    }
    OUT.write_text(json.dumps(summary, indent=2, default=str))
    log(f"summary written to {OUT}")


if __name__ == "__main__":
    main()
