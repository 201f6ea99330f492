"""Survey import on PostgreSQL: the 10,000-row acceptance run through the real command, and the HTTP twin on the
real broker (scope per row, reports, templates, refused files, events published by the relay)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select, text

from registry.adapters.orm import children, delivery
from registry.entrypoints.survey import XLSX_MEDIA_TYPE, template_xlsx
from simpul_contracts.events import ChildIdentityRecordedV1, ChildRegisteredV1
from simpul_platform.auth import Role
from simpul_platform.topic_reader import read_topic
from tests.support.database import scalar
from tests.support.stack import eventually, running, settings_for, token
from tests.support.surveys import survey

SIMPUL = Path(sys.executable).with_name("simpul")
JEMBER = "35.09"
OFFICER = token(Role.DISTRICT_OFFICER, JEMBER, subject="officer-jember")


def _import(path: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SIMPUL), "registry", "import", str(path), "--database-url", url,
                           "--source-system", "survey-2026"], capture_output=True, text=True, timeout=300,
                          check=False, env=os.environ | {"PYTHONWARNINGS": "ignore"})


async def _count(url: str, query: object) -> int:
    return int(await scalar(url, query))


def _errors(path: Path) -> dict[int, set[str]]:
    by_row: dict[int, set[str]] = {}
    with path.open(encoding="utf-8", newline="") as lines:
        for line in csv.DictReader(lines):
            by_row.setdefault(int(line["row"]), set()).add(line["column"])
    return by_row


async def test_ten_thousand_rows_with_three_percent_bad(make_database: Callable[..., str], tmp_path: Path) -> None:
    url = make_database("registry")
    sample = survey(10_000)
    path = tmp_path / "survey.csv"
    path.write_text(sample.text, encoding="utf-8")
    outbox = delivery.outbox
    identity_events = select(func.count()).select_from(outbox).where(
        outbox.c.event_type == ChildIdentityRecordedV1.event_type)

    first = _import(path, url)
    assert first.returncode == 1, first.stderr  # some rows rejected, the others imported
    assert f"created {sample.good}," in first.stdout
    assert f"rejected {len(sample.bad)}" in first.stdout
    assert "import: 10000/10000 rows" in first.stderr  # progress, a line per tenth when not on a terminal
    errors = _errors(tmp_path / "survey.errors.csv")
    assert set(errors) == set(sample.bad)  # exactly the bad rows, each named by the column at fault
    assert all(sample.bad[row] in columns for row, columns in errors.items()), errors
    count_children = select(func.count()).select_from(children)
    assert await _count(url, count_children) == sample.good
    events = await _count(url, select(func.count()).select_from(outbox))
    assert await _count(url, identity_events) == sample.good
    registered = outbox.c.event_type == ChildRegisteredV1.event_type
    assert await _count(url, select(func.count()).select_from(outbox).where(registered)) == sample.good
    # Written by COPY, still encrypted at rest: raw SQL, since the column type would decrypt.
    stored = await scalar(url, text("select nik from children where nik is not null limit 1"))
    assert stored.startswith("v2:")

    again = _import(path, url)
    assert again.returncode == 1
    assert f"created 0, updated 0, unchanged {sample.good}," in again.stdout
    assert await _count(url, count_children) == sample.good
    assert await _count(url, select(func.count()).select_from(outbox)) == events

    fixed_path = tmp_path / "fixed.csv"
    fixed_path.write_text(survey(10_000, fixed=True).text, encoding="utf-8")
    fixed = _import(fixed_path, url)
    assert fixed.returncode == 0, fixed.stderr
    assert f"created {len(sample.bad)}, updated 0, unchanged {sample.good}, rejected 0" in fixed.stdout
    assert await _count(url, count_children) == sample.rows


async def test_http_import_scope_reports_and_refusals(make_database: Callable[..., str], kafka_bootstrap: str,
                                                      namespace: str) -> None:
    url = make_database("registry")
    sample = survey(40, bad_share=0.1, seed=3, prefix="HTTP")
    rows = list(csv.DictReader(io.StringIO(sample.text)))
    outside = {number for number, row in enumerate(rows, start=2)
               if not row["village_code"].replace(".", "").startswith("3509") and number not in sample.bad}
    assert outside  # the sample spans both provinces, so the officer's scope refuses some good rows
    async with running({"registry": settings_for("registry", url, kafka_bootstrap, namespace)}) as stack:
        registry = stack.clients["registry"]
        response = await registry.post("/imports/children", content=sample.text.encode(),
                                       headers=OFFICER | {"Content-Type": "text/csv"})
        assert response.status_code == 200, response.text
        report = response.json()
        refused = {error["row"] for error in report["errors"]}
        assert refused == set(sample.bad) | outside
        assert {e["column"] for e in report["errors"] if e["row"] in outside} == {"village_code"}
        assert report["created"] == sample.rows - len(refused)
        location = response.headers["Location"]
        assert (await registry.get(location, headers=OFFICER)).json() == report
        errors_csv = await registry.get(f"{location}/errors.csv", headers=OFFICER)
        assert errors_csv.text.splitlines()[0] == "row,column,reason"
        assert len(errors_csv.text.splitlines()) == len(report["errors"]) + 1
        other = token(Role.DISTRICT_OFFICER, JEMBER, subject="someone-else")
        assert (await registry.get(location, headers=other)).status_code == 404
        ministry = token(Role.MINISTRY, "35", subject="ministry")
        assert (await registry.post("/imports/children", content=b"x", headers=ministry | {
            "Content-Type": "text/csv"})).status_code == 403

        # The relay publishes what the import put in the outbox: COPY wrote rows it can read.
        topic = namespace + ChildRegisteredV1.topic

        async def published() -> bool:
            records = await read_topic(kafka_bootstrap, topic)
            return len(records) >= report["created"]

        await eventually(published)

        again = await registry.post("/imports/children", content=sample.text.encode(),
                                    headers=OFFICER | {"Content-Type": "text/csv; charset=utf-8"})
        assert (again.json()["created"], again.json()["unchanged"]) == (0, report["created"])

        # A workbook: the template's example row imports; a NIK typed into a number cell is refused by name.
        book = load_workbook(io.BytesIO(template_xlsx()))
        sheet = book["survey"]
        row = ["XLSX-2", "Budi Santoso", "", "L", "2014-05-01", "", "", "3509112007", "", 3509110105140001]
        for column, value in enumerate(row, start=1):  # the template formats rows below as text: not append()
            sheet.cell(row=3, column=column, value=value)
        out = io.BytesIO()
        book.save(out)
        workbook = await registry.post("/imports/children", content=out.getvalue(),
                                       headers=OFFICER | {"Content-Type": XLSX_MEDIA_TYPE})
        assert workbook.status_code == 200, workbook.text
        assert workbook.json()["created"] == 1
        assert [(e["row"], e["column"]) for e in workbook.json()["errors"]] == [(3, "nik")]
        assert "3509110105140001" not in workbook.text

        plain = await registry.post("/imports/children", content=b"a,b", headers=OFFICER | {
            "Content-Type": "text/plain"})
        assert (plain.status_code, plain.headers["content-type"]) == (415, "application/problem+json")
        unusable = await registry.post("/imports/children", content=b"full_name,colour\nSiti,red\n",
                                       headers=OFFICER | {"Content-Type": "text/csv"})
        assert unusable.status_code == 422
        assert "missing required columns: source_record_id, sex, village_code" in unusable.json()["detail"]
        assert "unknown columns: colour" in unusable.json()["detail"]
        template = await registry.get("/imports/children/template.csv")
        assert template.text.startswith("source_record_id,full_name,")
    assert await _count(url, select(func.count()).select_from(children)) == report["created"] + 1
