"""JSON Schema documents as flat branches: the normal form the compatibility proof works on.

`$ref` is resolved against its own document, `allOf` merged, `anyOf` (and discriminated `oneOf`)
distributed, `const` read as a one-value `enum`, and a multi-type `type` split per type. What cannot be
normalised becomes an opaque branch that only equals an identical one.
"""

from __future__ import annotations

import json
from typing import Any

Schema = Any  # a JSON Schema is a dict or a bool; JSON values stay Any
Branch = dict[str, Any]

# Keywords that never change which instances validate.
ANNOTATIONS = frozenset(
    {
        "$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "examples",
        "default", "deprecated", "readOnly", "writeOnly",
    }
)
OPAQUE = "$opaque"  # marks a branch nothing can be proved about; it only equals itself
_MAX_DEPTH = 32  # guards against `$ref` chains that never reach a schema


class Document:
    """One schema document: flattens its nodes, resolving `$ref` against it."""

    def __init__(self, root: Schema) -> None:
        self.root = root

    def flatten(self, node: Schema, depth: int = 0) -> list[Branch]:
        """The flat alternatives a schema node stands for (an empty list accepts nothing)."""
        if isinstance(node, bool):
            return [{}] if node else []
        if not isinstance(node, dict) or depth > _MAX_DEPTH:
            return [self.opaque(node)]
        return self._flatten(_strip(node), depth)

    def _flatten(self, node: Branch, depth: int) -> list[Branch]:
        if "$ref" in node:
            return self._ref(node, depth)
        if "allOf" in node:
            return self._all_of(node, depth)
        if "anyOf" in node or ("oneOf" in node and "discriminator" in node):
            return self._any_of(node, depth)
        if "oneOf" in node:
            # Without a discriminator, widening a branch can make an old instance match two: not provable.
            return [self.opaque(node)]
        return _split_types(_const_as_enum(node))

    def _ref(self, node: Branch, depth: int) -> list[Branch]:
        ref = node.pop("$ref")
        target = resolve(self.root, ref)
        if isinstance(target, bool) and not node:
            return self.flatten(target, depth + 1)
        merged = _merge(node, _strip(target)) if isinstance(target, dict) else None
        if merged is None:
            return [self.opaque({**node, "$ref": ref})]
        return self.flatten(merged, depth + 1)

    def _all_of(self, node: Branch, depth: int) -> list[Branch]:
        parts = node.pop("allOf")
        merged: Branch | None = node
        for part in parts:
            if part is True:
                continue
            merged = _merge(merged, _strip(part)) if isinstance(part, dict) and merged is not None else None
        if merged is None:
            return [self.opaque({**node, "allOf": parts})]
        return self.flatten(merged, depth + 1)

    def _any_of(self, node: Branch, depth: int) -> list[Branch]:
        key = "anyOf" if "anyOf" in node else "oneOf"
        options = node.pop(key)
        if key == "oneOf":
            node.pop("discriminator", None)
        result: list[Branch] = []
        for option in options:
            if option is False:
                continue
            merged = _merge(node, _strip(option) if isinstance(option, dict) else {})
            if merged is None or not isinstance(option, dict | bool):
                result.append(self.opaque({**node, key: [option]}))
            else:
                result.extend(self.flatten(merged, depth + 1))
        return result

    def opaque(self, node: Schema) -> Branch:
        """A branch only equal to another with the same fully-resolved content."""
        return {OPAQUE: self.inline(node)}

    def inline(self, node: Any, seen: tuple[str, ...] = ()) -> Any:
        """`node` with local `$ref`s replaced by their targets (a recursive one keeps its name)."""
        if isinstance(node, list):
            return [self.inline(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: self.inline(value, seen) for key, value in node.items() if key != "$ref"}
        ref = node.get("$ref")
        if isinstance(ref, str):
            target = resolve(self.root, ref)
            out["$ref"] = ref if ref in seen or target is None else self.inline(target, (*seen, ref))
        elif "$ref" in node:
            out["$ref"] = ref
        return out


def _strip(node: dict[str, Any]) -> Branch:
    return {key: value for key, value in node.items() if key not in ANNOTATIONS}


def _merge(a: Branch, b: Branch) -> Branch | None:
    """Conjunction of two flat schemas when their keywords do not collide; None when they do."""
    merged = dict(a)
    for key, value in b.items():
        if key in merged and merged[key] != value:
            return None
        merged[key] = value
    return merged


def resolve(root: Schema, ref: str) -> Schema | None:
    """A local JSON Pointer (`#/...`) into `root`; None for remote or dangling references."""
    if not ref.startswith("#"):
        return None
    node = root
    for raw in filter(None, ref[1:].split("/")):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _const_as_enum(node: Branch) -> Branch:
    if "const" not in node:
        return node
    const = node.pop("const")
    node["enum"] = [v for v in node.get("enum", [const]) if canon(v) == canon(const)]
    return node


def _split_types(node: Branch) -> list[Branch]:
    """One branch per JSON type, each keeping only the enum values of its type (`{}` stays whole)."""
    kind = node.get("type")
    enum = node.get("enum")
    if isinstance(kind, str):
        kinds = [kind]
    elif isinstance(kind, list):
        kinds = list(dict.fromkeys(kind))
    elif isinstance(enum, list):
        kinds = sorted({json_type(value) for value in enum})
    else:
        return [node]
    branches = []
    for one in kinds:
        branch = {**node, "type": one}
        if isinstance(enum, list):
            branch["enum"] = [v for v in enum if json_type(v) == one or (one, json_type(v)) == ("number", "integer")]
            if not branch["enum"]:
                continue  # this type admits no value at all
        branches.append(branch)
    return branches


def json_type(value: Any) -> str:
    """The JSON Schema type of a JSON value (1.0 is an integer, as JSON Schema counts it)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    names = {float: "number", str: "string", list: "array", dict: "object"}
    return names.get(type(value), "unknown")


def canon(value: Any) -> str:
    """A canonical text of a JSON value, so 1 and true and "1" never compare equal."""
    return json.dumps(value, sort_keys=True)
