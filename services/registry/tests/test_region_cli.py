"""`simpul regions import` refuses unusable input before touching the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from registry import bootstrap
from registry.cli import UNUSABLE_INPUT, regions_app

runner = CliRunner()


@pytest.mark.parametrize(("content", "message"), [
    (b"kode,nama\n35,Jawa Timur\n", "header: expected 'code,name', found 'kode,nama'"),
    (b"code,name\n", "file: no regions below the header"),
    ("code,name\n35,Jawa T\u00edmur\n".encode("latin-1"), "not UTF-8 text"),
])
def test_unusable_files_exit_2_and_leave_the_database_alone(tmp_path: Path, content: bytes, message: str) -> None:
    listing, database = tmp_path / "regions.csv", tmp_path / "registry.db"
    listing.write_bytes(content)
    result = runner.invoke(regions_app, ["import", str(listing), "--database-url", f"sqlite+aiosqlite:///{database}"])
    assert result.exit_code == UNUSABLE_INPUT
    assert message in result.stderr
    assert "nothing imported" in result.stderr
    assert not database.exists()


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(regions_app, ["import", str(tmp_path / "nope.csv")])
    assert result.exit_code == UNUSABLE_INPUT
    assert "No such file" in result.stderr


def test_the_command_migrates_the_registrys_own_schema() -> None:
    # The command line gets its database from the composition root, which migrates it with these.
    assert (bootstrap.MIGRATIONS / "env.py").is_file()
