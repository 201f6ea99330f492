"""`simpul registry erase CHILD --reason ...`: the officer-only erasure from the command line, on a SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from registry.bootstrap import for_command_line
from registry.cli.erasure import REFUSED
from registry.cli.survey import registry_app
from registry.domain.commands import RegisterChild
from registry.domain.details import ChildDetails
from registry.domain.model import Sex
from registry.service_layer.handlers.children import register_child
from simpul_platform.auth import Principal, Role
from simpul_platform.unit_of_work import execute

runner = CliRunner()
KESILIR = "35.09.11.2007"


async def _registered(url: str) -> str:
    async with for_command_line(url) as wiring:
        command = RegisterChild(Principal("kader", Role.CADRE, (KESILIR,)),
                                ChildDetails(full_name="Rara Kinanthi", sex=Sex.FEMALE, village_code=KESILIR))
        view = await execute(wiring.unit_of_work(), register_child, command)
        return view.child_id


async def _name_of(url: str, child_id: str) -> tuple[str, object]:
    async with for_command_line(url) as wiring, wiring.unit_of_work() as uow:
        record = await uow.children.get(child_id)
        assert record is not None
        return record.child.full_name, record.erased_at


def test_erase_blanks_the_child_and_a_second_erase_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    child_id = asyncio.run(_registered(url))
    result = runner.invoke(registry_app, ["erase", child_id, "--reason", "surat 12/2026", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert f"{child_id}: erased at" in result.stdout
    name, erased_at = asyncio.run(_name_of(url, child_id))
    assert name == ""
    assert erased_at is not None
    again = runner.invoke(registry_app, ["erase", child_id, "--reason", "again", "--database-url", url])
    assert again.exit_code == REFUSED
    assert "child_id: this child's identifying data was erased" in again.stderr


def test_erase_of_an_unknown_child_is_refused(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    result = runner.invoke(registry_app, ["erase", "chd_nope", "--reason", "x", "--database-url", url])
    assert result.exit_code == REFUSED
    assert "child_id: no child with this id" in result.stderr
