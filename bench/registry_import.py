"""Survey import throughput: rows per second into PostgreSQL, with every event in the outbox.

What is measured, with a seeded survey of N rows (default 20,000; 3% bad rows) in the pilot villages:

* FIRST IMPORT: the path `simpul registry import` takes (read the CSV, check every row, register the good ones in
  batches of 500: child, case, consent, audit entries and outbox events in one transaction per batch). Time: from
  reading the file to the report, migrations and reference data loading excluded.
* RE-IMPORT: the same file again, which must create nothing (every good row unchanged).

Correctness is checked afterwards: children == good rows, errors == bad rows, outbox rows == the events the good
rows announce, and the re-import added no child and no event.

Infrastructure: `--postgres-url` (an admin URL) when given, else a throwaway PostgreSQL cluster (fsync off) started
with simpul_infra and stopped at the end. Figures go to stdout, progress to stderr.

Run:  .venv/bin/python bench/registry_import.py [--rows N] [--postgres-url URL] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import pstats
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support.surveys: the seeded survey

from bus import fresh_database, postgres_server, progress

from registry.adapters import orm
from registry.bootstrap import MIGRATIONS, Wiring
from registry.domain import survey as survey_import
from registry.domain.survey import ImportSurvey, SurveyFile
from registry.entrypoints.survey import checked_rows, file_digest, read_survey
from registry.service_layer.handlers.survey import import_survey
from registry.service_layer.unit_of_work import RegistryRules
from simpul_platform.auth import Principal, Role
from simpul_platform.database import Database
from simpul_platform.field_encryption import (
    development_blind_index_key,
    development_keyring,
)
from simpul_platform.migrations import upgrade
from tests.support.surveys import survey

TARGET_ROWS_PER_SECOND = 2000


async def run_import(wiring: Wiring, content: bytes) -> tuple[survey_import.ImportReport, float, float]:
    """Import the survey as the CLI does; the report, the seconds it took and the CPU seconds this process used."""
    principal = Principal("bench", Role.DISTRICT_OFFICER, ("35", "52"))
    started, cpu = time.perf_counter(), time.process_time()
    today = dt.datetime.now(dt.UTC).date()
    rows = checked_rows(list(read_survey("survey.csv", content)), today=today, in_parallel=True)
    command = ImportSurvey(principal, rows, SurveyFile("survey.csv", file_digest(content)))
    report = await import_survey(command, wiring.unit_of_work)
    return report, time.perf_counter() - started, time.process_time() - cpu


async def count(database: Database, table: object) -> int:
    """Rows in a table."""
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def bench(url: str, rows: int, profile: cProfile.Profile | None) -> bool:
    """Run both imports, print the figures; True when every check holds."""
    sample = survey(rows)
    content = sample.text.encode()
    await upgrade(url, MIGRATIONS)
    database = Database(url, pool_size=2, keyring=development_keyring())
    wiring = Wiring(database, RegistryRules("bench-survey", development_blind_index_key()))
    try:
        progress(f"importing {rows} rows ({len(sample.bad)} bad) ...")
        if profile:
            profile.enable()
        first, first_seconds, first_cpu = await run_import(wiring, content)
        if profile:
            profile.disable()
        children, events = await count(database, orm.children), await count(database, orm.delivery.outbox)
        progress("importing the same file again ...")
        again, again_seconds, _ = await run_import(wiring, content)
        children_after, events_after = await count(database, orm.children), await count(database, orm.delivery.outbox)
    finally:
        await database.dispose()
    rate = rows / first_seconds
    checks = {
        "children == good rows": children == sample.good == first.created,
        "rejected rows == bad rows": {e.row for e in first.errors} == set(sample.bad),
        "outbox holds the events": events > 2 * children,
        "re-import: nothing new": (again.created, children_after, events_after) == (0, children, events)
        and again.unchanged == sample.good,
        f"first import >= {TARGET_ROWS_PER_SECOND} rows/s": rate >= TARGET_ROWS_PER_SECOND,
    }
    print(f"rows {rows} (good {sample.good}, bad {len(sample.bad)}), batches of {survey_import.BATCH_ROWS}")
    print(f"first import: {first_seconds:.2f} s, {rate:,.0f} rows/s; {children} children, {events} outbox events "
          f"({events / first_seconds:,.0f} events/s)")
    print(f"              {first_cpu:.2f} CPU seconds in this process ({first_cpu / rows * 1e6:,.0f} us per row; "
          f"{rows / first_cpu:,.0f} rows/s if the importer had a core to itself)")
    print(f"re-import:    {again_seconds:.2f} s, {rows / again_seconds:,.0f} rows/s; created {again.created}, "
          f"unchanged {again.unchanged}")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return all(checks.values())


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments, start PostgreSQL when needed, run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="survey rows (default 20,000)")
    parser.add_argument("--postgres-url", help="admin URL of a running PostgreSQL (default: start a throwaway one)")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the first import")
    args = parser.parse_args(argv)
    if not 0 < args.rows <= 1_000_000:
        parser.error("--rows must be between 1 and 1,000,000")
    profile = cProfile.Profile() if args.profile else None
    with postgres_server(args.postgres_url) as server, fresh_database(server) as url:
        ok = asyncio.run(bench(url, args.rows, profile))
    if profile:
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
