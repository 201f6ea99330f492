"""Committed JSON Schema snapshots of the event models: reader-safe, annotated, byte-for-byte deterministic.

A snapshot is the schema `ce_dataschema` names, for readers: open, as the models are (an object accepts properties it
does not list, because a reader ignores them), so a reader that validates with it keeps working when a producer adds
an optional field. Its closed form (`closed`: `additionalProperties: false` on every object) is the writers'
contract: what a producer may send, what compatibility is judged over and what `released/` records.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from simpul_contracts.event import Event, event_types

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Keywords whose value is a map of name -> subschema, a list of subschemas, or one subschema. Walking only
# these (never `default`, `examples`, `enum`, `const`) keeps data that merely looks like a schema untouched.
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = (
    "items", "additionalItems", "additionalProperties", "unevaluatedItems", "unevaluatedProperties",
    "not", "if", "then", "else", "contains", "propertyNames",
)


def schema(model: type[Event]) -> dict[str, Any]:
    """The model's published (reader-safe) validation JSON Schema, annotated with its topic and data class."""
    document = model.model_json_schema(mode="validation")
    document.update(
        {
            "$schema": JSON_SCHEMA_DIALECT,
            "$id": model.dataschema(),
            "title": model.__name__,
            "x-topic": model.topic,
            "x-data-class": str(model.data_class),
        }
    )
    return document


def closed(document: dict[str, Any]) -> dict[str, Any]:
    """The writers' contract of a schema: a closed copy (see `close`)."""
    contract = copy.deepcopy(document)
    close(contract)
    return contract


def reader_safe(document: dict[str, Any]) -> dict[str, Any]:
    """What a reader validates with: a copy without `additionalProperties: false` (released revisions are closed)."""
    reader = copy.deepcopy(document)
    _open(reader)
    return reader


def _open(node: Any) -> None:
    if not isinstance(node, dict):
        return
    if node.get("additionalProperties") is False:
        del node["additionalProperties"]
    for sub in _subschemas(node):
        _open(sub)


def _subschemas(node: dict[str, Any]) -> list[Any]:
    found = [sub for key in _SCHEMA_MAPS for sub in (node.get(key) or {}).values()]
    found += [sub for key in _SCHEMA_LISTS for sub in node.get(key) or ()]
    return found + [node.get(key) for key in _SCHEMA_VALUES]


def close(node: Any) -> None:
    """Set `additionalProperties: false` on every object schema that does not say otherwise, in place."""
    if not isinstance(node, dict):
        return
    if _is_object(node) and "additionalProperties" not in node:
        node["additionalProperties"] = False
    for sub in _subschemas(node):
        close(sub)


def _is_object(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in node


def dumps(document: dict[str, Any]) -> str:
    """The one serialisation used for snapshots and released revisions, so diffs stay minimal."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render(model: type[Event]) -> str:
    """The snapshot file content for one model."""
    return dumps(schema(model))


def expected() -> dict[str, str]:
    """Snapshot file name -> content, for every registered event type."""
    return {model.schema_name(): render(model) for model in event_types().values()}


def write_all(directory: Path) -> list[str]:
    """Write every snapshot, delete orphaned ones; return the names that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = expected()
    changed = drift(directory)
    for name in changed:
        path = directory / name
        if name in wanted:
            path.write_text(wanted[name], encoding="utf-8")
        else:
            path.unlink()
    return changed


def drift(directory: Path) -> list[str]:
    """Snapshot names that are missing, stale or orphaned (no model) in `directory`, sorted."""
    wanted = expected()
    present = {path.name: path for path in directory.glob("*.json")} if directory.is_dir() else {}
    names = set(wanted) | set(present)
    return sorted(
        name
        for name in names
        if name not in present or present[name].read_text(encoding="utf-8") != wanted.get(name)
    )
