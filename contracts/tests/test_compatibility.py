"""Compatibility with released revisions (the gate), transitivity, and recording releases."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simpul_contracts import compatibility, snapshots
from simpul_contracts.compatibility import IncompatibleChange, check, check_transitive, release
from simpul_contracts.layout import Layout

COMMITTED = Layout()
RELEASED = compatibility.released_types(COMMITTED.released)
EVENT = "simpul.registry.child-identity-recorded.v1"


def test_every_event_type_has_a_snapshot_and_the_current_ones_are_released() -> None:
    assert RELEASED, "released/ must hold at least the first release"
    assert set(RELEASED) <= set(compatibility.snapshot_types(COMMITTED.schemas))


@pytest.mark.parametrize("event_type", RELEASED)
def test_current_snapshot_is_compatible_with_every_released_revision(event_type: str) -> None:
    released = compatibility.revisions(event_type, COMMITTED.released)
    current = compatibility.current(event_type, COMMITTED.schemas)

    assert released
    assert check_transitive(released, current) == []


def test_released_registry_is_consistent() -> None:
    assert compatibility.verify(COMMITTED) == []


@pytest.mark.parametrize("event_type", RELEASED)
def test_released_revisions_are_canonical_snapshots(event_type: str) -> None:
    for path in compatibility.revision_files(event_type, COMMITTED.released):
        assert path.read_text() == snapshots.dumps(json.loads(path.read_text()))


def _with_optional_field(document: dict[str, Any], name: str) -> dict[str, Any]:
    changed = json.loads(json.dumps(document))
    changed["properties"][name] = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    return changed


def test_transitive_check_names_the_revision_a_change_breaks(registry_schema: dict[str, Any]) -> None:
    revision_2 = _with_optional_field(registry_schema, "school_name")
    # Dropping the field again is fine for revision 1's messages, not for revision 2's.
    problems = check_transitive([registry_schema, revision_2], registry_schema)

    assert check(registry_schema, registry_schema) == []
    assert len(problems) == 1
    assert problems[0].startswith("revision 2: school_name: property removed")


def _write_snapshot(layout: Layout, document: dict[str, Any]) -> None:
    (layout.schemas / f"{EVENT}.json").write_text(snapshots.dumps(document))


def test_release_is_a_no_op_when_nothing_changed(workspace: Layout) -> None:
    assert release(EVENT, workspace) is None
    assert [p.name for p in compatibility.revision_files(EVENT, workspace.released)] == ["1.json"]


def test_release_appends_a_compatible_change(workspace: Layout, registry_schema: dict[str, Any]) -> None:
    changed = _with_optional_field(registry_schema, "school_name")
    _write_snapshot(workspace, changed)

    assert release(EVENT, workspace) == 2
    assert compatibility.revisions(EVENT, workspace.released) == [registry_schema, changed]
    assert release(EVENT, workspace) is None
    assert compatibility.verify(workspace) == []


def test_release_refuses_an_incompatible_change(workspace: Layout, registry_schema: dict[str, Any]) -> None:
    del registry_schema["properties"]["mother_name"]
    _write_snapshot(workspace, registry_schema)

    with pytest.raises(IncompatibleChange, match="mother_name: property removed"):
        release(EVENT, workspace)
    assert len(compatibility.revision_files(EVENT, workspace.released)) == 1


def test_release_all_records_nothing_if_any_type_is_incompatible(
    workspace: Layout, registry_schema: dict[str, Any]
) -> None:
    registry_schema["required"].append("nik")
    _write_snapshot(workspace, registry_schema)
    before = {t: len(compatibility.revision_files(t, workspace.released)) for t in RELEASED}

    with pytest.raises(IncompatibleChange) as caught:
        compatibility.release_all(workspace)
    assert any("nik: optional property became required" in problem for problem in caught.value.problems)
    assert {t: len(compatibility.revision_files(t, workspace.released)) for t in RELEASED} == before


def test_first_release_of_a_new_event_type_is_revision_1(workspace: Layout) -> None:
    (workspace.schemas / "simpul.registry.new-thing.v1.json").write_text('{"type": "object"}\n')

    assert release("simpul.registry.new-thing.v1", workspace) == 1
    assert (workspace.released / "simpul.registry.new-thing.v1" / "1.json").exists()


def test_verify_reports_a_released_type_whose_snapshot_vanished(workspace: Layout) -> None:
    (workspace.schemas / f"{EVENT}.json").unlink()

    assert any(p.startswith(f"{EVENT}: released, but its snapshot is gone") for p in compatibility.verify(workspace))


def test_verify_reports_gaps_in_revision_numbers(workspace: Layout) -> None:
    folder = workspace.released / EVENT
    (folder / "1.json").rename(folder / "2.json")

    assert any("numbered 1.json..N.json" in problem for problem in compatibility.verify(workspace))


def test_verify_reports_an_incompatible_snapshot(workspace: Layout, registry_schema: dict[str, Any]) -> None:
    registry_schema["$defs"]["Sex"]["enum"].remove("unknown")
    _write_snapshot(workspace, registry_schema)

    assert compatibility.verify(workspace) == [f"{EVENT}: revision 1: sex: enum values removed: [\"unknown\"]"]
