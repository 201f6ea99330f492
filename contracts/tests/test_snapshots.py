"""Snapshots: the committed JSON Schemas are exactly what the models generate (the drift gate)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simpul_contracts import event_types, snapshots
from simpul_contracts.layout import Layout

MODELS = sorted(event_types().values(), key=lambda model: model.event_type)


def test_committed_snapshots_have_no_drift() -> None:
    assert snapshots.drift(Layout().schemas) == [], "run `simpul contracts generate` and commit the result"


def test_a_stale_snapshot_is_drift(workspace: Layout) -> None:
    name = MODELS[0].schema_name()
    path = workspace.schemas / name
    document = json.loads(path.read_text())
    document["required"] = document["required"][:-1]  # the model still requires it
    path.write_text(snapshots.dumps(document))

    assert snapshots.drift(workspace.schemas) == [name]


def test_a_reformatted_snapshot_is_drift(workspace: Layout) -> None:
    name = MODELS[0].schema_name()
    path = workspace.schemas / name
    path.write_text(json.dumps(json.loads(path.read_text())))  # same content, not the canonical bytes

    assert snapshots.drift(workspace.schemas) == [name]


def test_missing_and_orphaned_snapshots_are_drift(workspace: Layout) -> None:
    missing = MODELS[-1].schema_name()
    (workspace.schemas / missing).unlink()
    (workspace.schemas / "simpul.nobody.gone.v1.json").write_text("{}\n")

    assert snapshots.drift(workspace.schemas) == sorted([missing, "simpul.nobody.gone.v1.json"])


def test_write_all_repairs_drift_and_reports_what_it_touched(workspace: Layout) -> None:
    stale = MODELS[0].schema_name()
    (workspace.schemas / stale).write_text("{}\n")
    (workspace.schemas / "orphan.json").write_text("{}\n")

    assert snapshots.write_all(workspace.schemas) == sorted([stale, "orphan.json"])
    assert snapshots.drift(workspace.schemas) == []
    assert not (workspace.schemas / "orphan.json").exists()
    assert snapshots.write_all(workspace.schemas) == []


def test_write_all_creates_the_directory(tmp_path: Any) -> None:
    target = tmp_path / "fresh"
    written = snapshots.write_all(target)

    assert sorted(written) == sorted(model.schema_name() for model in MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.event_type)
def test_render_is_canonical_json(model: Any) -> None:
    text = snapshots.render(model)

    assert text == snapshots.render(model)
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.event_type)
def test_snapshot_is_annotated_with_envelope_topic_and_data_class(model: Any) -> None:
    document = snapshots.schema(model)
    dataschema = model.model_construct().envelope(subject="any").dataschema

    assert document["$id"] == dataschema
    assert document["title"] == model.__name__
    assert document["x-topic"] == model.topic
    assert document["x-data-class"] == str(model.data_class)


def _objects(node: Any) -> list[dict[str, Any]]:
    """Every object schema reachable through subschema keywords."""
    if not isinstance(node, dict):
        return []
    found = [node] if node.get("type") == "object" or "properties" in node else []
    for key in snapshots._SCHEMA_MAPS:
        for sub in (node.get(key) or {}).values():
            found += _objects(sub)
    for key in snapshots._SCHEMA_LISTS:
        for sub in node.get(key) or ():
            found += _objects(sub)
    for key in snapshots._SCHEMA_VALUES:
        found += _objects(node.get(key))
    return found


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.event_type)
def test_the_published_snapshot_is_reader_safe_and_its_contract_closed_everywhere(model: Any) -> None:
    published = snapshots.schema(model)
    objects, contract = _objects(published), _objects(snapshots.closed(published))

    assert objects
    assert not [obj for obj in objects if obj.get("additionalProperties") is False]
    assert len(contract) == len(objects)
    assert all(obj.get("additionalProperties") is False for obj in contract)
    assert snapshots.reader_safe(snapshots.closed(published)) == published


def test_close_reaches_nested_models_and_leaves_data_and_maps_alone() -> None:
    document: dict[str, Any] = {
        "type": "object",
        "properties": {
            "properties": {"$ref": "#/$defs/Inner"},  # a field literally named "properties"
            "tags": {"type": "object", "additionalProperties": {"type": "integer"}},  # dict[str, int]
            "blob": {"default": {"type": "object"}, "examples": [{"properties": {}}]},
        },
        "$defs": {"Inner": {"type": "object", "properties": {"x": {"type": "string"}}}},
    }
    snapshots.close(document)

    assert document["additionalProperties"] is False
    assert document["$defs"]["Inner"]["additionalProperties"] is False
    assert "additionalProperties" not in document["properties"]  # the name map is not a schema
    assert document["properties"]["tags"]["additionalProperties"] == {"type": "integer"}
    assert document["properties"]["blob"]["default"] == {"type": "object"}
    assert document["properties"]["blob"]["examples"] == [{"properties": {}}]
