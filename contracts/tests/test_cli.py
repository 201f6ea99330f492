"""`simpul contracts generate|check|release` against a copy of the contracts directory."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from simpul_contracts.cli import app
from simpul_contracts.layout import Layout

runner = CliRunner()
EVENT = "simpul.identity.record-linked.v1"


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_check_passes_on_the_committed_contracts() -> None:
    code, output = _run("check")

    assert code == 0, output
    assert "contracts OK" in output


def test_check_fails_listing_drift_then_generate_repairs_it(workspace: Layout) -> None:
    path = workspace.schemas / f"{EVENT}.json"
    path.write_text(path.read_text().replace("Opaque, stable person id", "Something else"))

    code, output = _run("check", "--root", str(workspace.root))
    assert code == 1
    assert f"snapshot drift: schemas/{EVENT}.json" in output

    code, output = _run("generate", "--root", str(workspace.root))
    assert code == 0
    assert f"wrote schemas/{EVENT}.json" in output
    assert _run("check", "--root", str(workspace.root))[0] == 0


def test_check_fails_listing_incompatibility_with_a_released_revision(workspace: Layout) -> None:
    # Pretend revision 2 had shipped a field the current model lacks: the model now "removes" it.
    first = json.loads((workspace.released / EVENT / "1.json").read_text())
    first["properties"]["confidence"] = {"type": "number"}
    (workspace.released / EVENT / "2.json").write_text(json.dumps(first, indent=2, sort_keys=True) + "\n")

    code, output = _run("check", "--root", str(workspace.root))
    assert code == 1
    assert f"{EVENT}: revision 2: confidence: property removed" in output
    assert "revision 1" not in output


def test_release_refuses_drifted_snapshots(workspace: Layout) -> None:
    (workspace.schemas / f"{EVENT}.json").unlink()

    code, output = _run("release", "--root", str(workspace.root))
    assert code == 1
    assert "generate" in output


def test_release_with_nothing_changed_records_nothing(workspace: Layout) -> None:
    assert _run("release", "--root", str(workspace.root))[0] == 0  # whatever is unreleased in the repo

    code, output = _run("release", "--root", str(workspace.root))
    assert code == 0
    assert "nothing to release" in output
    assert sorted(p.name for p in (workspace.released / EVENT).iterdir()) == ["1.json"]
