"""`simpul identity dedupe`: one output row per input record; unusable files refused with exit status 2."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from identity.cli import UNUSABLE_INPUT, identity_app

HEADER = "record_id,source,full_name,sex,birth_date,birth_date_precision,nik,kk_number,mother_name,village_code\n"
ROWS = [
    "r1,district_system,MUHAMMAD RIZKI,L,2014-03-02,day,3509110203140001,3509110101200001,SITI AMINAH,3509112007",
    "r2,village_survey,Moh. Rizky,M,2014-03,month,,,Ibu Siti Aminah,35.09.11.2007",
    "r3,school,Dewi Lestari,P,2011,year,,,Sulastri,3509082005",
    "r4,provider,Hasan,male,not a date,day,12345,,,",
    "r5,provider,,,,,,,,",
]
runner = CliRunner()


def test_every_record_gets_exactly_one_person_row(tmp_path: Path) -> None:
    source, output, model = tmp_path / "records.csv", tmp_path / "clusters.csv", tmp_path / "model.json"
    source.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    result = runner.invoke(
        identity_app, ["dedupe", "--input", str(source), "--output", str(output), "--model", str(model)]
    )
    assert result.exit_code == 0, result.output
    with output.open(encoding="utf-8") as lines:
        rows = list(csv.DictReader(lines))
    assert [row["record_id"] for row in rows] == ["r1", "r2", "r3", "r4", "r5"]
    assert set(rows[0]) == {"record_id", "person_id", "score", "decision"}
    person = {row["record_id"]: row["person_id"] for row in rows}
    assert person["r1"] == person["r2"]
    assert len({person["r1"], person["r3"], person["r4"], person["r5"]}) == 4
    assert "unusable birth_date" in result.stderr
    assert "unusable nik" in result.stderr
    assert model.exists()
    again = runner.invoke(
        identity_app, ["dedupe", "--input", str(source), "--output", str(output), "--no-scores", "--model", str(model)]
    )
    assert again.exit_code == 0, again.output
    assert output.read_text(encoding="utf-8").splitlines()[0] == "record_id,person_id"


def test_a_wrong_header_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    source, output = tmp_path / "records.csv", tmp_path / "clusters.csv"
    source.write_text(HEADER.replace("kk_number", "kk") + ROWS[0] + "\n", encoding="utf-8")
    result = runner.invoke(identity_app, ["dedupe", "--input", str(source), "--output", str(output)])
    assert result.exit_code == UNUSABLE_INPUT
    assert "row 1 (header): missing column(s) kk_number; unexpected column(s) kk" in result.stderr
    assert not output.exists()


def test_a_duplicate_record_id_names_its_row(tmp_path: Path) -> None:
    source, output = tmp_path / "records.csv", tmp_path / "clusters.csv"
    source.write_text(HEADER + ROWS[0] + "\n" + ROWS[0] + "\n", encoding="utf-8")
    result = runner.invoke(identity_app, ["dedupe", "--input", str(source), "--output", str(output)])
    assert result.exit_code == UNUSABLE_INPUT
    assert "row 3, column record_id" in result.stderr
