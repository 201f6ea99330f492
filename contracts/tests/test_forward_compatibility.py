"""Published schemas are reader-safe (open), and a change older readers would reject is refused (FULL_TRANSITIVE).

Readers ignore properties they do not know, so an integrator validating with `ce_dataschema` must too: the published
schema accepts a property it does not list, while the writers' contract (closed) does not. Adding an optional
property is then the one change that is safe both ways; a new enum value, accepting null, a loosened constraint or a
required property becoming optional is forward-breaking: a reader built on an earlier revision would reject the new
messages (our own consumers would dead-letter them), so `check`/`release` refuse it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from simpul_contracts import compatibility, snapshots
from simpul_contracts.compatibility import IncompatibleChange, check_forward, check_transitive, release
from simpul_contracts.events import ChildClassifiedV1
from simpul_contracts.layout import Layout

Schema = dict[str, Any]
EVENT = "simpul.registry.child-identity-recorded.v1"


def changed(schema: Schema, edit: Callable[[Schema], object]) -> Schema:
    copy: Schema = json.loads(json.dumps(schema))
    edit(copy)
    return copy


def _classified() -> dict[str, Any]:
    event = ChildClassifiedV1(
        child_id="chd_1", person_id=None, sex="female", birth_year=2014, village_code="35.09.11.2007",
        case_id="cas_1", classification="at_risk", previous="child_labourer", reason="reclassified",
        status="monitoring", classified_at=datetime(2025, 6, 1, tzinfo=UTC), classified_by="kader-1",
    )
    return event.model_dump(mode="json")


def test_a_reader_validating_with_the_published_schema_accepts_a_property_added_later() -> None:
    published = json.loads((Layout().schemas / ChildClassifiedV1.schema_name()).read_text(encoding="utf-8"))
    later = {**_classified(), "school_code": "20512345"}

    Draft202012Validator(published).validate(later)
    assert not Draft202012Validator(snapshots.closed(published)).is_valid(later)  # writers may not send it yet
    assert ChildClassifiedV1.model_validate(later).child_id == "chd_1"  # as our own readers do


def _optional(s: Schema) -> None:
    s["properties"]["school_name"] = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}


def _new_enum_value(s: Schema) -> None:
    s["$defs"]["Sex"]["enum"].append("other")


def _nullable(s: Schema) -> None:
    s["properties"]["full_name"] = {"anyOf": [s["properties"]["full_name"], {"type": "null"}]}


def _looser(s: Schema) -> None:
    s["properties"]["full_name"]["maxLength"] = 500


def _no_longer_required(s: Schema) -> None:
    s["required"].remove("full_name")
    s["properties"]["full_name"]["default"] = ""


def test_adding_an_optional_property_is_safe_both_ways(registry_schema: Schema) -> None:
    new = changed(registry_schema, _optional)

    assert check_forward(registry_schema, new) == []
    assert check_transitive([registry_schema], snapshots.reader_safe(new)) == []


@pytest.mark.parametrize(
    ("edit", "field", "reason"),
    [
        (_new_enum_value, "sex", 'enum values older readers do not know: ["other"]'),
        (_nullable, "full_name", "type changed: null not accepted by older readers"),
        (_looser, "full_name", "maxLength"),
        (_no_longer_required, "full_name", "optional now, required by older readers"),
    ],
    ids=["new enum value", "accepting null", "loosened maximum length", "required becoming optional"],
)
def test_widening_is_backward_compatible_but_forward_breaking(
    registry_schema: Schema, edit: Callable[[Schema], object], field: str, reason: str
) -> None:
    new = changed(registry_schema, edit)

    assert compatibility.check(registry_schema, new) == []  # new readers still read every old message ...
    (problem,) = check_transitive([registry_schema], new)  # ... old readers would reject new ones
    assert problem.startswith("revision 1: forward-breaking, older readers would reject new messages: ")
    assert field in problem
    assert reason in problem


def _write_snapshot(layout: Layout, document: Schema) -> None:
    (layout.schemas / f"{EVENT}.json").write_text(snapshots.dumps(snapshots.reader_safe(document)))


def test_check_and_release_refuse_a_new_enum_value(workspace: Layout, registry_schema: Schema) -> None:
    _write_snapshot(workspace, changed(registry_schema, _new_enum_value))

    assert compatibility.verify(workspace) == [
        f'{EVENT}: revision 1: forward-breaking, older readers would reject new messages: sex: enum values older '
        'readers do not know: ["other"]'
    ]
    with pytest.raises(IncompatibleChange, match="forward-breaking"):
        compatibility.release_all(workspace)
    assert [p.name for p in compatibility.revision_files(EVENT, workspace.released)] == ["1.json"]


def test_release_records_the_closed_contract_of_the_published_schema(workspace: Layout,
                                                                     registry_schema: Schema) -> None:
    new = changed(registry_schema, _optional)
    _write_snapshot(workspace, new)

    assert release(EVENT, workspace) == 2
    assert compatibility.revisions(EVENT, workspace.released) == [registry_schema, snapshots.closed(new)]
    assert release(EVENT, workspace) is None
    assert compatibility.verify(workspace) == []


def test_the_committed_published_schemas_need_no_new_release() -> None:
    layout = Layout()
    for event_type in compatibility.released_types(layout.released):
        latest = compatibility.revisions(event_type, layout.released)[-1]
        assert snapshots.closed(compatibility.current(event_type, layout.schemas)) == latest, event_type
