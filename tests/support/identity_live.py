"""Identity's live path measured as a district runs it, beside batch dedupe on the same records.

Generated children (bench/identity_support/generator.py, imported unchanged) are registered through registry's
survey import in arrival order; registry announces each record on `registry.child-identity.v1`, identity's
consumer links it with the services' default configuration (no model path, default thresholds), and registry
learns each child's person from `identity.link.v1`. The persons are read back from registry and scored against the
generator's truth; batch dedupe runs as `simpul identity dedupe` runs it (the model estimated from its input) on the
records exactly as identity holds them. Shared by tests/integration/test_identity_live_quality.py and
bench/identity_live.py.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rapidfuzz.distance import JaroWinkler
from sqlalchemy import func, select

from identity.adapters.orm import reviews
from identity.adapters.record_index import stored_records
from identity.domain.model import MatchModel
from identity.domain.records import Record
from identity.service_layer.dedupe import DedupeResult, dedupe_records
from registry.adapters.orm import children
from registry.entrypoints.survey import COLUMN_NAMES
from simpul_platform.auth import Role
from simpul_platform.database import Database
from simpul_platform.field_encryption import development_keyring
from tests.support.database import scalar
from tests.support.stack import KESILIR, eventually, running, settings_for, token

# bench/ is no installed package: its generator and metrics are imported from the checkout (appended, so that
# bench/identity.py never shadows the identity package).
if str(ROOT := Path(__file__).resolve().parents[2]) not in sys.path:
    sys.path.append(str(ROOT))

from bench.identity_support.generator import Dataset, children_for_records, generate
from bench.identity_support.metrics import Pairwise, pairwise

__all__ = ["LiveRun", "Quality", "children_for_records", "generate", "measure"]

SOURCE_SYSTEM = "district-survey"
DISTRICTS = ("35.09", "52.03", "52.08")  # the pilot districts: Jember, Lombok Timur, Lombok Utara
OFFICER = token(Role.DISTRICT_OFFICER, *DISTRICTS, subject="officer-pilot")
IMPORT_ROWS = 500  # rows per survey file, imported one after another
SAME_NAME_PART = 0.8


def _child(record_id: str, name: str, sex: str, born: str) -> dict[str, str]:
    return {"record_id": record_id, "full_name": name, "sex": sex, "birth_date": born,
            "birth_date_precision": "day", "village_code": KESILIR, "nik": "", "kk_number": "", "mother_name": ""}


# Issue 9, section 1: three pairs of different children the live service once joined (same sex and village, no
# NIK, no mother's name). Each record is a child of its own.
ISSUE_9_PAIRS = (
    (_child("issue9-1a", "Rahmat Hidayat", "male", "2013-07-07"),
     _child("issue9-1b", "Zainal Abidin", "male", "2013-07-07")),
    (_child("issue9-2a", "Ayu Hidayat Maya", "female", "2014-06-22"),
     _child("issue9-2b", "Putri Maulana Agus", "female", "2014-06-22")),
    (_child("issue9-3a", "Budi Hidayat Novi", "male", "2017-10-16"),
     _child("issue9-3b", "Novi Hidayat Budi", "male", "2010-03-16")),
)


@dataclass(frozen=True)
class Quality:
    """Pairwise quality of one clustering and its share of records in review."""

    pairwise: Pairwise
    review_share: float


@dataclass(frozen=True)
class LiveRun:
    """What the live path and batch dedupe made of the same registered records."""

    rows: dict[str, dict[str, str]]  # source record id -> the record as registered
    truth: dict[str, str]  # source record id -> true child
    live: dict[str, str]  # source record id -> person id, as registry holds it
    batch: DedupeResult
    refused: int  # rows registry refused (a district cannot register a child without a village)
    live_seconds: float  # first import sent -> every registered child has its person
    batch_seconds: float
    in_review: int  # records with an open review in identity
    held: list[Record]  # the records as identity holds them (batch's input)

    @property
    def records_per_second(self) -> float:
        """Records through the live path (registry import, both topics, identity linking) per second."""
        return len(self.live) / self.live_seconds

    def live_quality(self) -> Quality:
        """Pairwise quality of the live persons, and the share of records in review."""
        return Quality(pairwise(self.live, self.truth), self.in_review / len(self.live))

    def batch_quality(self) -> Quality:
        """Pairwise quality of batch dedupe, and the share of records it left for review."""
        person_of = {_record_id(key): person for key, person in self.batch.person_of.items()}
        in_review = sum(decision == "review" for decision in self.batch.decision_of.values())
        return Quality(pairwise(person_of, self.truth), in_review / len(person_of))

    def service_model_quality(self) -> Quality:
        """Pairwise quality of batch dedupe with the service's model (the shipped default) instead of an estimate."""
        result = dedupe_records(self.held, model=MatchModel.default())
        person_of = {_record_id(key): person for key, person in result.person_of.items()}
        in_review = sum(decision == "review" for decision in result.decision_of.values())
        return Quality(pairwise(person_of, self.truth), in_review / len(person_of))

    def demographics_only_links(self) -> list[tuple[str, str]]:
        """Live-linked record pairs that agree on nothing but sex, village and birth date."""
        return [(a, b) for a, b in linked_pairs(self.live) if not agree_beyond_demographics(self.rows[a], self.rows[b])]

    def issue_9_pairs_linked(self) -> list[tuple[str, str]]:
        """The pairs of issue 9 that the live path put in one person."""
        return [(a["record_id"], b["record_id"]) for a, b in ISSUE_9_PAIRS
                if self.live[a["record_id"]] == self.live[b["record_id"]]]


def arrivals(dataset: Dataset) -> list[dict[str, str]]:
    """The generated records in arrival order as a district registers them, with issue 9's pairs among them;
    records without a village are left out (registry requires one), a missing sex is `unknown`."""
    records = [r for r in dataset.records if r["village_code"]]
    step = max(1, len(records) // (2 * len(ISSUE_9_PAIRS) + 1))
    extra = [record for pair in ISSUE_9_PAIRS for record in pair]
    for number, record in enumerate(extra, start=1):
        records.insert(min(len(records), number * step), record)
    return [record | {"sex": record["sex"] or "unknown"} for record in records]


def truth_of(dataset: Dataset) -> dict[str, str]:
    """record id -> true child, issue 9's records each a child of its own."""
    return dataset.truth | {r["record_id"]: r["record_id"] for pair in ISSUE_9_PAIRS for r in pair}


def survey_file(records: Sequence[dict[str, str]]) -> bytes:
    """A survey CSV of the records (identity's fields only; the rest of the layout left empty)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMN_NAMES, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        row = dict.fromkeys(COLUMN_NAMES, "")
        row |= {name: record[name] for name in ("full_name", "sex", "birth_date", "birth_date_precision",
                                                "village_code", "mother_name", "nik", "kk_number")}
        row["source_record_id"] = record["record_id"]
        writer.writerow(row)
    return out.getvalue().encode()


async def measure(dataset: Dataset, *, registry_url: str, identity_url: str, bootstrap: str, namespace: str,
                  timeout: float = 600.0, registry_settings: dict[str, Any] | None = None,
                  progress: Callable[[str], None] | None = None) -> LiveRun:
    """Register the dataset's records through the running services, read the persons back, run batch dedupe
    (`progress` hears how many children are linked, every 15 s)."""
    records = arrivals(dataset)
    services = {"registry": settings_for("registry", registry_url, bootstrap, namespace, **(registry_settings or {})),
                "identity": settings_for("identity", identity_url, bootstrap, namespace)}
    async with running(services) as stack:
        started = time.perf_counter()
        registered, refused = await _import(stack.clients["registry"], records)
        await eventually(_Watch(registry_url, registered, progress), timeout=timeout, every=0.5)
        live_seconds = time.perf_counter() - started
    live = await _persons(registry_url)
    held = await _held_records(identity_url)
    started = time.perf_counter()
    batch = await asyncio.to_thread(dedupe_records, held)
    batch_seconds = time.perf_counter() - started
    truth = truth_of(dataset)
    rows = {r["record_id"]: r for r in records if r["record_id"] in live}
    in_review = await _in_review(identity_url)
    return LiveRun(rows, {k: truth[k] for k in live}, live, batch, refused, live_seconds, batch_seconds, in_review,
                   held)


async def _import(client: httpx.AsyncClient, records: Sequence[dict[str, str]]) -> tuple[int, int]:
    created = refused = 0
    for start in range(0, len(records), IMPORT_ROWS):
        response = await client.post(f"/imports/children?source_system={SOURCE_SYSTEM}",
                                     content=survey_file(records[start:start + IMPORT_ROWS]),
                                     headers=OFFICER | {"Content-Type": "text/csv"}, timeout=300)
        assert response.status_code == 200, response.text
        report = response.json()
        created, refused = created + report["created"], refused + len({e["row"] for e in report["errors"]})
    return created, refused


class _Watch:
    """Whether every registered child has its person in registry, told to `progress` every 15 s."""

    def __init__(self, registry_url: str, registered: int, progress: Callable[[str], None] | None) -> None:
        self.registry_url, self.registered, self.progress = registry_url, registered, progress
        self._told = time.perf_counter()

    async def __call__(self) -> bool:
        c = children.c
        query = select(func.count()).select_from(children).where(c.source_system == SOURCE_SYSTEM,
                                                                 c.person_id.is_not(None))
        linked = int(await scalar(self.registry_url, query))
        if self.progress is not None and time.perf_counter() - self._told > 15:
            self._told = time.perf_counter()
            self.progress(f"{linked}/{self.registered} children linked")
        return linked >= self.registered


async def _persons(registry_url: str) -> dict[str, str]:
    database = Database(registry_url, keyring=development_keyring())
    try:
        async with database.session() as session:
            c = children.c
            rows = await session.execute(select(c.source_record_id, c.person_id)
                                         .where(c.source_system == SOURCE_SYSTEM))
            return {record_id: person for record_id, person in rows.tuples()}
    finally:
        await database.dispose()


async def _held_records(identity_url: str) -> list[Record]:
    database = Database(identity_url, keyring=development_keyring())
    try:
        async with database.session() as session:
            held: list[Record] = await stored_records(session)
            return held
    finally:
        await database.dispose()


async def _in_review(identity_url: str) -> int:
    c = reviews.c
    query = select(func.count(func.distinct(c.source_record_id))).where(c.status == "open")
    return int(await scalar(identity_url, query))


def _record_id(key: str) -> str:
    return key.partition(":")[2]


def linked_pairs(person_of: dict[str, str]) -> Iterable[tuple[str, str]]:
    """Every pair of records one clustering put in one person."""
    members: dict[str, list[str]] = defaultdict(list)
    for record_id, person in person_of.items():
        members[person].append(record_id)
    for group in members.values():
        yield from itertools.combinations(sorted(group), 2)


_HONORIFICS = frozenset({"an", "ibu", "bu", "ny", "hj", "inaq", "bin", "binti"})


_OLD_SPELLINGS = (("oe", "u"), ("dj", "j"), ("tj", "c"), ("sj", "sy"), ("ch", "kh"))


def _tokens(name: str) -> set[str]:
    """A name's parts without honorifics, in today's spelling (Noer / Nur, Djoko / Joko)."""
    parts = set()
    for found in re.findall(r"[a-z]+", name.lower()):
        part = found
        for old, new in _OLD_SPELLINGS:
            part = part.replace(old, new)
        if part not in _HONORIFICS:
            parts.add(part)
    return parts


def _names_share(one: str, other: str) -> bool:
    """Some part of one name is alike a part of the other (Jaro-Winkler at least 0.8: respellings and typos, so
    Rahmat / Zainal at 0.56 are not), or begins it (M. / Muhammad, Bq. / Baiq)."""
    a, b = _tokens(one), _tokens(other)
    return any(JaroWinkler.normalized_similarity(x, y) >= SAME_NAME_PART
               or (len(x) <= 3 and y.startswith(x)) or (len(y) <= 3 and x.startswith(y)) for x in a for y in b)


def agree_beyond_demographics(one: dict[str, str], other: dict[str, str]) -> bool:
    """Whether two records agree on anything besides sex, village and birth date: a part of the name, the NIK,
    the family card or a part of the mother's name."""
    return (_names_share(one["full_name"], other["full_name"])
            or (bool(one["nik"]) and one["nik"] == other["nik"])
            or (bool(one["kk_number"]) and one["kk_number"] == other["kk_number"])
            or _names_share(one["mother_name"], other["mother_name"]))
