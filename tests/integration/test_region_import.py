"""Importing the official region list of the three pilot districts, on PostgreSQL and on SQLite."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from registry.adapters.orm import region_versions, regions
from registry.bootstrap import MIGRATIONS, Wiring, rules_from
from registry.config import RegistrySettings
from registry.domain.commands import ImportRegions
from registry.domain.regions import ImportPlan, read_region_list
from registry.reference import pilot_regions
from registry.service_layer.handlers import regions as region_import
from simpul_platform.database import Database
from simpul_platform.migrations import upgrade
from simpul_platform.unit_of_work import execute

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "regions_pilot_districts.csv"
KESILIR = "35.09.11.2007"
GENGGELANG = "52.08.02.2003"  # a pilot village with a field alias (Genggeling): renamed in the modified copy
KETING = "35.09.01.2002"  # left out of the modified copy
MALFORMED = "35.09.01.20X7,Keting Baru"

pytestmark = pytest.mark.skipif(not REFERENCE.exists(), reason=f"the shared reference list {REFERENCE} is missing")


def counts(**nonzero: int) -> dict[str, int]:
    """An import summary: zero wherever not given."""
    names = ("created", "renamed", "retired", "unretired", "unchanged", "errors")
    return {name: nonzero.get(name, 0) for name in names}


@pytest.fixture
def database_url(any_store: Callable[[str], str]) -> str:
    """A fresh registry database on each store."""
    return any_store("regions")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The registry's schema with the shipped pilot regions, as after the service's first start."""
    await upgrade(database_url, MIGRATIONS)
    store = Database(database_url)
    yield store
    await store.dispose()


@pytest.fixture
def modified(tmp_path: Path) -> Path:
    """The reference list with Genggelang renamed, Keting left out and a malformed row added at the end."""
    lines = REFERENCE.read_text(encoding="utf-8").splitlines()
    lines = [f"{GENGGELANG},Genggelang Baru" if line.startswith(GENGGELANG) else line
             for line in lines if not line.startswith(KETING)]
    path = tmp_path / "modified.csv"
    path.write_text("\n".join([*lines, MALFORMED]) + "\n", encoding="utf-8")
    return path


async def load(database: Database, path: Path, **options: Any) -> ImportPlan:
    """Import a list the way the command does: read, then one unit of work."""
    with path.open(encoding="utf-8-sig", newline="") as lines:
        rows = read_region_list(lines)
    wiring = Wiring(database, rules_from(RegistrySettings()))
    return await execute(wiring.unit_of_work(), region_import.import_regions, ImportRegions(rows, **options))


async def stored(database: Database) -> tuple[dict[str, Any], list[Any]]:
    """Every region by code, and the whole version history."""
    async with database.session() as session:
        current = {row.code: row for row in await session.execute(select(regions))}
        history = list(await session.execute(select(region_versions).order_by("code", "version")))
    return current, history


async def test_the_pilot_districts_load_with_parents_and_levels_and_load_again_unchanged(database: Database) -> None:
    assert (await load(database, REFERENCE)).counts() == counts(created=588, unchanged=19)
    current, history = await stored(database)
    listed = {line.split(",")[0] for line in REFERENCE.read_text(encoding="utf-8").splitlines()[1:]}
    assert set(current) == listed | {region.code for region in pilot_regions()}
    assert Counter(row.level for row in current.values()) == {
        "provinsi": 2, "kabupaten": 3, "kecamatan": 57, "desa": 508, "kelurahan": 37}
    assert all(current[row.parent_code].retired_at is None for row in current.values() if row.level != "provinsi")
    assert (current[KESILIR].name, current[KESILIR].parent_code, current[KESILIR].level) == ("Kesilir", "35.09.11",
                                                                                                "desa")
    assert current[GENGGELANG].aliases == ["Genggeling"]
    assert [(v.code, v.version, v.name) for v in history if v.valid_to is None] == sorted(
        (row.code, 1, row.name) for row in current.values())

    assert (await load(database, REFERENCE)).counts() == counts(unchanged=607)
    assert await stored(database) == (current, history)


async def test_a_changed_list_renames_retires_and_rejects_and_the_original_brings_everything_back(
    database: Database, modified: Path
) -> None:
    await load(database, REFERENCE)
    plan = await load(database, modified)
    assert plan.counts() == counts(renamed=1, retired=1, unchanged=605, errors=1)
    assert [(e.row, e.field) for e in plan.errors] == [(608, "code")]  # the header is row 1
    current, history = await stored(database)
    assert (current[GENGGELANG].name, current[GENGGELANG].version, current[GENGGELANG].aliases) == (
        "Genggelang Baru", 2, ["Genggeling"])
    assert (current[KETING].retired_at is not None, current[KETING].version) == (True, 1)
    assert [(v.version, v.name, v.valid_to is None) for v in history if v.code == GENGGELANG] == [
        (1, "Genggelang", False), (2, "Genggelang Baru", True)]

    assert (await load(database, REFERENCE)).counts() == counts(renamed=1, unretired=1, unchanged=605)
    current, history = await stored(database)
    assert (current[KETING].retired_at, current[KETING].version, current[KETING].name) == (None, 2, "Keting")
    assert [(v.version, v.valid_to is None) for v in history if v.code == KETING] == [(1, False), (2, True)]
    assert (current[GENGGELANG].name, current[GENGGELANG].version, current[GENGGELANG].aliases) == (
        "Genggelang", 3, ["Genggeling"])


async def test_an_import_that_fails_midway_leaves_nothing_behind(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(region_import, "BATCH", 100)

    def crash_after_two_batches(done: int, total: int) -> None:
        if done >= 200:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        await load(database, REFERENCE, progress=crash_after_two_batches)
    current, history = await stored(database)
    assert (len(current), len(history)) == (19, 19)


def test_the_command_migrates_a_fresh_database_and_reports_by_exit_status(tmp_path: Path, modified: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    first = simpul("regions", "import", str(REFERENCE), "--database-url", url)
    assert (first.returncode, first.stdout) == (0, "created 588, renamed 0, retired 0, unretired 0, unchanged 19, "
                                                   "errors 0\n"), first.stderr
    second = simpul("regions", "import", str(modified), "--database-url", url)
    assert (second.returncode, second.stdout) == (1, "created 0, renamed 1, retired 1, unretired 0, unchanged 605, "
                                                     "errors 1\n")
    assert "row 608: code: '35.09.01.20X7' is not a Kemendagri code" in second.stderr


def simpul(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run the `simpul` command as an operator would."""
    command = [sys.executable, "-m", "simpul", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
