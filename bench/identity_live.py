"""Identity's live path at benchmark size (issue 9): live against batch (and Splink, when asked), side by side.

What tests/integration/test_identity_live_quality.py does, at the size of the batch benchmark: the seeded
generator's children (`--children`, default 20,000) are registered through registry's survey import in arrival
order, identity's consumer links them with the services' default configuration (the shipped default model, its
thresholds), and the persons are read back from registry. Printed side by side, against the generator's truth:
* live: precision, recall and F1 (pairwise), the share of records in review, records per second through the live
  path (first import sent -> every child linked: registry import, both topics, identity linking, registry's link);
* batch: `simpul identity dedupe`'s path on the records exactly as identity holds them (the model estimated from
  them, as the command does by default), and with the service's model for comparison; its run time;
* Splink (`--splink`): bench/identity_support/run_splink.py on the same records, in its own environment;
* the real-time p95 of one match against an index of every record, with the model the service uses.

Villages: beyond 4,000 children the generator adds synthetic villages; each is mapped to an official village of
its kecamatan (the shared reference list, loaded into registry first), so that registry accepts every record.
Infrastructure: `--bootstrap` and `--postgres-url` (an admin URL) when given, else a throwaway Kafka broker and
PostgreSQL cluster (fsync off), stopped at the end. Figures go to stdout, progress to stderr.

Run:  .venv/bin/python bench/identity_live.py [--children 20000] [--seed 9] [--splink]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import dataclasses
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

# The repository, not bench/: bench/identity.py would shadow the identity package.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.bus_support import fresh_database, kafka_bootstrap, postgres_server, progress  # noqa: E402
from bench.identity_support import splink_env  # noqa: E402
from bench.identity_support.generator import Dataset, generate, write_csv  # noqa: E402
from bench.identity_support.metrics import pairwise  # noqa: E402
from identity.domain.index import PersonIndex  # noqa: E402
from identity.domain.model import MatchModel  # noqa: E402
from registry.bootstrap import MIGRATIONS as REGISTRY_MIGRATIONS  # noqa: E402
from simpul_infra.catalogue import load_catalogue  # noqa: E402
from simpul_infra.topics import ensure_topics  # noqa: E402
from simpul_platform.migrations import upgrade  # noqa: E402
from tests.support.identity_live import LiveRun, Quality, measure  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "regions_pilot_districts.csv"
SIMPUL = Path(sys.executable).with_name("simpul")
PROBES = 2_000
SPLINK_TIMEOUT_S = 3600


def official_villages(dataset: Dataset) -> Dataset:
    """The dataset with each synthetic village replaced by an official village of its kecamatan."""
    pilot = {code for code in dataset.villages[:8]}
    if len(dataset.villages) <= len(pilot):
        return dataset
    by_kecamatan: dict[str, list[str]] = {}
    for line in REFERENCE.read_text(encoding="utf-8").splitlines()[1:]:
        code = line.split(",")[0]
        if code.count(".") == 3 and code.replace(".", "") not in pilot:
            by_kecamatan.setdefault(code.replace(".", "")[:6], []).append(code.replace(".", ""))
    mapping, used = {}, dict.fromkeys(by_kecamatan, 0)
    for code in dataset.villages:
        if code in pilot:
            continue
        options = by_kecamatan[code[:6]]
        mapping[code] = options[used[code[:6]] % len(options)]
        used[code[:6]] += 1

    def official(village: str) -> str:
        plain = village.replace(".", "")
        found = mapping.get(plain, plain)
        return f"{found[:2]}.{found[2:4]}.{found[4:6]}.{found[6:]}" if "." in village else found

    records = [r | {"village_code": official(r["village_code"])} if r["village_code"] else r for r in dataset.records]
    return dataclasses.replace(dataset, records=records)


def realtime_p95(run: LiveRun, model: MatchModel) -> float:
    """p95 in ms of one match against an index of every held record, with the service's model."""
    records = run.held
    index = PersonIndex(model)
    index.add_many(records, [str(i) for i in range(len(records))])
    timings = []
    for record in records[:: max(1, len(records) // PROBES)][:PROBES]:
        started = time.perf_counter()
        index.candidates(record)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.quantiles(timings, n=20)[18]


def splink(run: LiveRun, workdir: Path, seed: int) -> Quality | None:
    """Splink on the same records (bench/identity_support/run_splink.py in its own venv), at its oracle-best
    threshold; None when it cannot run."""
    records, clusters, meta = workdir / "records.csv", workdir / "splink.csv", workdir / "splink.json"
    write_csv(run.rows.values(), records)
    try:
        done = splink_env.run(["--input", str(records), "--output", str(clusters), "--meta", str(meta),
                               "--seed", str(seed)], timeout=SPLINK_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as error:
        progress(f"Splink did not run: {error}")
        return None
    if done.returncode != 0:
        progress(f"Splink did not run ({done.returncode}): {done.stderr[-500:]}")
        return None
    with clusters.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sweep = [pairwise({r["record_id"]: r[column] for r in rows}, run.truth)
             for column in (rows[0] if rows else {}) if column.startswith("t")]
    return Quality(max(sweep, key=lambda p: p.f1), 0.0) if sweep else None


async def live_run(dataset: Dataset, bootstrap: str, registry_url: str, identity_url: str) -> LiveRun:
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    specs = [dataclasses.replace(spec, name=namespace + spec.name) for spec in load_catalogue().all_topics()]
    await ensure_topics(bootstrap, specs)
    await upgrade(registry_url, REGISTRY_MIGRATIONS)
    if len(dataset.villages) > 8:
        loaded = await asyncio.to_thread(subprocess.run, [str(SIMPUL), "regions", "import", str(REFERENCE),
                                                          "--database-url", registry_url],
                                         capture_output=True, text=True, check=False)
        assert loaded.returncode in (0, 1), loaded.stderr
    return await measure(dataset, registry_url=registry_url, identity_url=identity_url, bootstrap=bootstrap,
                         namespace=namespace, timeout=7200, progress=progress)


def _line(name: str, quality: Quality, extra: str = "") -> str:
    p = quality.pairwise
    return (f"{name:<22} P {p.precision:.4f}  R {p.recall:.4f}  F1 {p.f1:.4f}  "
            f"review {quality.review_share:6.2%}  {extra}")


def report(run: LiveRun, splink_quality: Quality | None, p95: float) -> dict[str, object]:
    """Print the side-by-side table; the figures as a dict."""
    live, batch = run.live_quality(), run.batch_quality()
    service_model = run.service_model_quality()
    about = MatchModel.default().identity()
    print(f"identity live vs batch: {len(run.live)} records registered ({run.refused} refused), "
          f"model {about.name} {about.version} ({about.checksum})")
    print(_line("live (service)", live, f"{run.records_per_second:.0f} records/s, {run.live_seconds:.0f} s"))
    print(_line("batch (dedupe)", batch, f"{run.batch_seconds:.1f} s, model estimated from the records"))
    print(_line("batch (service model)", service_model))
    if splink_quality is not None:
        print(_line("Splink", splink_quality))
    print(f"live F1 - batch F1: {live.pairwise.f1 - batch.pairwise.f1:+.4f}; issue 9 pairs linked: "
          f"{len(run.issue_9_pairs_linked())}; links on demographics alone: {len(run.demographics_only_links())}")
    print(f"real-time p95 with the service's model: {p95:.2f} ms")
    return {"records": len(run.live), "live_f1": live.pairwise.f1, "batch_f1": batch.pairwise.f1,
            "live_precision": live.pairwise.precision, "records_per_second": run.records_per_second, "p95_ms": p95}


@contextlib.contextmanager
def _infrastructure(args: argparse.Namespace) -> Iterator[tuple[str, str, str]]:
    with kafka_bootstrap(args.bootstrap) as bootstrap, postgres_server(args.postgres_url) as server, \
            fresh_database(server) as registry_url, fresh_database(server) as identity_url:
        yield bootstrap, registry_url, identity_url


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--splink", action="store_true", help="also run Splink on the same records")
    parser.add_argument("--bootstrap", help="Kafka bootstrap address (default: start a throwaway broker)")
    parser.add_argument("--postgres-url", help="admin URL of a running PostgreSQL (default: start a throwaway one)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    dataset = official_villages(generate(args.seed, args.children))
    progress(f"{len(dataset.records)} records of {dataset.children} children (seed {args.seed})")
    with _infrastructure(args) as (bootstrap, registry_url, identity_url):
        run = asyncio.run(live_run(dataset, bootstrap, registry_url, identity_url))
    progress("real-time p95 ...")
    p95 = realtime_p95(run, MatchModel.default())
    with tempfile.TemporaryDirectory() as workdir:
        splink_quality = splink(run, Path(workdir), args.seed) if args.splink else None
    figures = report(run, splink_quality, p95)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
