"""Identity's live path against batch dedupe over many seeds and generator settings, in memory (issue 9).

bench/identity_live.py measures the live path as a district runs it (registry, broker, PostgreSQL) and takes hours
at benchmark size on a loaded machine. This runs the same decisions without the infrastructure, so that the spread
over seeds can be reported, not one seed: the generated records, in arrival order (as
tests/support/identity_live.py orders them, issue 9's pairs among them), go through identity's linking handler
(`link_records`, one transaction per `--batch` records, as the consumer runs them) over the in-memory unit of work
with the service's default configuration (the shipped default model), and batch dedupe runs on the same records, as
`simpul identity dedupe` runs it (its model estimated from them) and with the service's model.

Per seed it prints pairwise precision, recall and F1 and the review share of each, and the live F1 minus each batch
F1; then min / median / max of those over the seeds. Registry's own part (its survey import, its refusal of records
without a village or an impossible birth date) is not run: such records are left out here, as registry refuses
them.

Run:  .venv/bin/python bench/identity_live_spread.py [--seeds 9,3,21] [--varied-seeds 5,11] [--records 2150]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# The repository, not bench/: bench/identity.py would shadow the identity package.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.identity_support.generator import Variation, children_for_records, generate  # noqa: E402
from bench.identity_support.metrics import pairwise  # noqa: E402
from identity.domain.commands import LinkRecords, RecordSeen  # noqa: E402
from identity.domain.model import MatchModel  # noqa: E402
from identity.domain.source_records import Details, RecordKey, as_record  # noqa: E402
from identity.service_layer.dedupe import dedupe_records  # noqa: E402
from identity.service_layer.fake import FakeIdentityUnitOfWork  # noqa: E402
from identity.service_layer.handlers.linking import link_records  # noqa: E402
from simpul_platform.unit_of_work import execute  # noqa: E402
from tests.support.identity_live import arrivals, truth_of  # noqa: E402

SOURCE = "district-survey"
PRECISIONS = {1: "year", 2: "month", 3: "day"}


@dataclass(frozen=True)
class Figures:
    """Pairwise precision, recall, F1 and the share of records in review."""

    precision: float
    recall: float
    f1: float
    review: float

    def __str__(self) -> str:
        return f"P {self.precision:.4f} R {self.recall:.4f} F1 {self.f1:.4f} review {self.review:.3f}"


def registrable(record: dict[str, str]) -> bool:
    """Whether registry accepts the record's birth date (a mistyped day can make none: registry refuses the row)."""
    try:
        details(record)
    except ValueError:
        return False
    return True


def details(record: dict[str, str]) -> Details:
    """The details registry would send for a generated record (its dates and village codes read as registry does)."""
    parts = [int(part) for part in record["birth_date"].split("-")] if record["birth_date"] else []
    born = dt.date(parts[0], *[*parts[1:], 1, 1][:2]) if parts else None
    village = record["village_code"].replace(".", "")
    return Details(full_name=record["full_name"], sex=record["sex"],
                   village_code=f"{village[:2]}.{village[2:4]}.{village[4:6]}.{village[6:]}",
                   birth_date=born, birth_date_precision=PRECISIONS[len(parts)] if parts else None,
                   nik=record["nik"] or None, kk_number=record["kk_number"] or None,
                   mother_name=record["mother_name"] or None)


async def live(records: list[dict[str, str]], batch: int) -> tuple[dict[str, str], int]:
    """record id -> person through identity's linking handler, and how many records have an open review."""
    uow = FakeIdentityUnitOfWork()
    for start in range(0, len(records), batch):
        seen = tuple(RecordSeen(RecordKey(SOURCE, r["record_id"]), details(r)) for r in records[start:start + batch])
        await execute(uow, link_records, LinkRecords(seen))
    persons = {key.source_record_id: record.person_id for key, (record, _) in uow.store.records.items()}
    return persons, len({review.key for review in uow.store.reviews.values() if review.status == "open"})


def figures(persons: dict[str, str], truth: dict[str, str], in_review: int) -> Figures:
    """Pairwise quality against the generator's truth."""
    found = pairwise(persons, truth)
    return Figures(found.precision, found.recall, found.f1, in_review / len(persons))


def batch(records: list[dict[str, str]], truth: dict[str, str], model: MatchModel | None) -> Figures:
    """Batch dedupe on the same records (the model estimated from them when None)."""
    result = dedupe_records([as_record(RecordKey(SOURCE, r["record_id"]), details(r)) for r in records], model=model)
    persons = {key.partition(":")[2]: person for key, person in result.person_of.items()}
    return figures(persons, truth, sum(decision == "review" for decision in result.decision_of.values()))


def run(seed: int, records: int, varied: bool, batch_size: int) -> tuple[Figures, Figures, Figures]:
    """Live, dedupe and batch with the service's model on one seed's records."""
    dataset = generate(seed, children_for_records(records), Variation.drawn(seed) if varied else None)
    arriving = [r | {"sex": r["sex"] or "unknown"} for r in arrivals(dataset) if registrable(r)]
    truth = {r["record_id"]: truth_of(dataset)[r["record_id"]] for r in arriving}
    started = time.perf_counter()
    persons, in_review = asyncio.run(live(arriving, batch_size))
    seconds = time.perf_counter() - started
    result = (figures(persons, truth, in_review), batch(arriving, truth, None),
              batch(arriving, truth, MatchModel.default()))
    print(f"seed {seed}{' varied' if varied else ''}, {len(arriving)} records ({seconds:.0f} s live): live "
          f"{result[0]} | dedupe {result[1]} | batch, service's model {result[2]} | live-dedupe F1 "
          f"{result[0].f1 - result[1].f1:+.4f}, live-batch same model {result[0].f1 - result[2].f1:+.4f}", flush=True)
    return result


def spread(name: str, values: list[float]) -> str:
    """min / median / max."""
    return f"{name} {min(values):+.4f} / {statistics.median(values):+.4f} / {max(values):+.4f}"


def main() -> None:
    """Run the seeds and print the spread."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="9,3,21", help="seeds with the generator's default settings")
    parser.add_argument("--varied-seeds", default="5,11", help="seeds with drawn settings (Variation.drawn)")
    parser.add_argument("--records", type=int, default=2150, help="about this many records per seed")
    parser.add_argument("--batch", type=int, default=100, help="records per linking transaction")
    arguments = parser.parse_args()
    runs = [(int(s), False) for s in arguments.seeds.split(",") if s]
    runs += [(int(s), True) for s in arguments.varied_seeds.split(",") if s]
    results = [run(seed, arguments.records, varied, arguments.batch) for seed, varied in runs]
    print("min / median / max over the seeds:")
    print("  " + spread("live precision", [r[0].precision for r in results]).replace("+", ""))
    print("  " + spread("live F1 - dedupe F1", [r[0].f1 - r[1].f1 for r in results]))
    print("  " + spread("live F1 - batch F1 with the service's model", [r[0].f1 - r[2].f1 for r in results]))
    print("  " + spread("live review share", [r[0].review for r in results]).replace("+", ""))


if __name__ == "__main__":
    main()
