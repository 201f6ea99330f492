"""Does a new JSON Schema accept every instance an old one accepts? A conservative structural proof.

Both schemas are flattened into branches (see schema_branches); every old branch must then be a subset of
some new branch. Whatever cannot be proved (an unknown keyword that changed, an undiscriminated `oneOf`,
a remote `$ref`) is reported, never passed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from simpul_contracts.schema_branches import OPAQUE, Branch, Document, Schema, canon, json_type

_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_STRING = frozenset({"pattern", "minLength", "maxLength"})
_ARRAY = frozenset({"items", "prefixItems", "minItems", "maxItems", "uniqueItems"})
_OBJECT = frozenset({"properties", "required", "additionalProperties", "minProperties", "maxProperties"})
_HANDLED = frozenset({"type", "enum", "format", *_BOUNDS}) | _STRING | _ARRAY | _OBJECT


def incompatibilities(old: Schema, new: Schema) -> list[str]:
    """Reasons some instance valid under `old` may be invalid under `new`; empty when `new` accepts all."""
    return unique(_Diff(old, new).compare(old, new, ""))


class _Diff:
    """One comparison: the two root documents (for `$ref`) and the branch pairs being proved."""

    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.documents = (Document(old_root), Document(new_root))
        # Pairs under proof: meeting one again inside itself (a recursive model) holds coinductively.
        self.active: set[str] = set()

    def compare(self, old: Schema, new: Schema, path: str) -> list[str]:
        """Problems with proving every instance of `old` (at `path`) is an instance of `new`."""
        candidates = self.documents[1].flatten(new)
        problems: list[str] = []
        for branch in self.documents[0].flatten(old):
            problems.extend(self.covered(branch, candidates, path))
        return problems

    def covered(self, branch: Branch, candidates: list[Branch], path: str) -> list[str]:
        """Problems of the best candidate branch for one old branch (none if any candidate covers it)."""
        if OPAQUE in branch:
            return [] if branch in candidates else [_unverifiable(branch, path)]
        if not candidates:
            return [f"{_where(path)}: no longer accepts any value"]
        old_types = _types(branch)
        typed = [c for c in candidates if OPAQUE in c or _accepts(old_types, _types(c))]
        if not typed:
            return [_type_message(old_types, candidates, path)]
        return min((self.subset(branch, c, path) for c in typed), key=len)

    def subset(self, old: Branch, new: Branch, path: str) -> list[str]:
        """Problems with proving flat branch `old` is a subset of flat branch `new`."""
        if OPAQUE in new:
            return [_unverifiable(new, path)]
        key = json.dumps([old, new], sort_keys=True, default=str)
        if key in self.active:
            return []
        self.active.add(key)
        try:
            return self._subset(old, new, path)
        finally:
            self.active.discard(key)

    def _subset(self, old: Branch, new: Branch, path: str) -> list[str]:
        types = _types(old)
        structural = "patternProperties" in old or "patternProperties" in new
        problems = _enum(old, new, path) + _exact(old, new, "format", path)
        if _applies(types, "string"):
            problems += _exact(old, new, "pattern", path) + _limits(old, new, "Length", path)
        if _applies(types, "number", "integer"):
            problems += _numeric(old, new, path)
        if _applies(types, "array"):
            problems += self._array(old, new, path)
        if _applies(types, "object") and not structural:
            problems += self._object(old, new, path)
        handled = _HANDLED - _OBJECT if structural else _HANDLED
        return problems + self._unknown(old, new, handled - _odd_bounds(old, new), path)

    def _array(self, old: Branch, new: Branch, path: str) -> list[str]:
        old_items, new_items = old.get("items", True), new.get("items", True)
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        problems: list[str] = []
        for i in range(max(len(old_prefix), len(new_prefix))):
            before = old_prefix[i] if i < len(old_prefix) else old_items
            after = new_prefix[i] if i < len(new_prefix) else new_items
            problems += self.compare(before, after, f"{path}[{i}]")
        problems += self.compare(old_items, new_items, f"{path}[]")
        if new.get("uniqueItems") is True and old.get("uniqueItems") is not True:
            problems.append(f"{_where(path)}: uniqueItems added")
        return problems + _limits(old, new, "Items", path)

    def _object(self, old: Branch, new: Branch, path: str) -> list[str]:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
        problems: list[str] = []
        for name, before in old_props.items():
            child = _join(path, name)
            if name in new_props:
                problems += self.compare(before, new_props[name], child) + _default(before, new_props[name], child)
            elif new_extra is False:
                problems.append(f"{child}: property removed (old messages carrying it would be rejected)")
            else:
                problems += self.compare(before, new_extra, child)
        for name in sorted(new_props.keys() - old_props.keys()):
            # An open old schema let messages carry this name with any value the extras schema allowed.
            if old_extra is not False and self.compare(old_extra, new_props[name], _join(path, name)):
                problems.append(
                    f"{_join(path, name)}: added to an open schema, constraining values old messages may carry"
                )
        if new_extra is False and old_extra is not False:
            problems.append(f"{_where(path)}: closed (open -> closed): unknown properties no longer accepted")
        else:
            problems += self.compare(old_extra, new_extra, _join(path, "*"))
        return problems + _required(old, new, path) + _limits(old, new, "Properties", path)

    def _unknown(self, old: Branch, new: Branch, handled: frozenset[str], path: str) -> list[str]:
        problems: list[str] = []
        for key in sorted((old.keys() | new.keys()) - handled):
            # Compared fully resolved, so a `$ref` whose target changed counts as changed.
            before = [self.documents[0].inline(old[key])] if key in old else []
            after = [self.documents[1].inline(new[key])] if key in new else []
            if canon(before) != canon(after):
                problems.append(
                    f"{_where(path)}: keyword `{key}` changed from {_shown(before)} to {_shown(after)} "
                    "(not verifiable, treated as incompatible)"
                )
        return problems

def _unverifiable(branch: Branch, path: str) -> str:
    content = branch.get(OPAQUE, branch)
    uses = ", ".join(sorted(content)) if isinstance(content, dict) else _show(content)
    return f"{_where(path)}: changed in a way that cannot be verified (uses {uses}), treated as incompatible"


def _types(node: Branch) -> frozenset[str] | None:
    """The JSON types a branch admits; None when it does not restrict the type."""
    kind = node.get("type")
    if isinstance(kind, str):
        return frozenset({kind})
    if isinstance(kind, list):
        return frozenset(kind)
    if isinstance(node.get("enum"), list):
        return frozenset(json_type(v) for v in node["enum"])
    return None


def _accepts(old: frozenset[str] | None, new: frozenset[str] | None) -> bool:
    if new is None:
        return True
    if old is None:
        return False
    return all(t in new or (t == "integer" and "number" in new) for t in old)


def _applies(types: frozenset[str] | None, *kinds: str) -> bool:
    return types is None or any(kind in types for kind in kinds)


def _type_message(old: frozenset[str] | None, candidates: list[Branch], path: str) -> str:
    union: set[str] = set()
    for candidate in candidates:
        union |= _types(candidate) or set()
    now = "|".join(sorted(union))
    if old is None:
        return f"{_where(path)}: type now restricted to {now}"
    return f"{_where(path)}: type changed: {'|'.join(sorted(old))} no longer accepted (now {now})"


def _enum(old: Branch, new: Branch, path: str) -> list[str]:
    if "enum" not in new:
        return []
    if "enum" not in old:
        return [f"{_where(path)}: now restricted to the values {_show(new['enum'])}"]
    allowed = {canon(v) for v in new["enum"]}
    removed = [v for v in old["enum"] if canon(v) not in allowed]
    return [f"{_where(path)}: enum values removed: {_show(removed)}"] if removed else []


def _exact(old: Branch, new: Branch, key: str, path: str) -> list[str]:
    """Keywords only provably compatible when unchanged or dropped (pattern, format)."""
    before, after = old.get(key), new.get(key)
    if after is None or before == after:
        return []
    if before is None:
        return [f"{_where(path)}: {key} {_show(after)} added"]
    return [f"{_where(path)}: {key} changed from {_show(before)} to {_show(after)}"]


def _limits(old: Branch, new: Branch, noun: str, path: str) -> list[str]:
    """minX may only fall and maxX only rise (X = Length, Items, Properties)."""
    problems: list[str] = []
    for key, tighter in ((f"min{noun}", int.__gt__), (f"max{noun}", int.__lt__)):
        before, after = old.get(key), new.get(key)
        if not isinstance(after, int):
            continue
        if not isinstance(before, int):
            problems.append(f"{_where(path)}: {key} {after} added")
        elif tighter(after, before):
            problems.append(f"{_where(path)}: {key} tightened from {before} to {after}")
    return problems


def _number(value: Any) -> Fraction | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Fraction(str(value))
    return None


def _odd_bounds(old: Branch, new: Branch) -> frozenset[str]:
    """Numeric keywords holding non-numbers (draft-4 booleans): left to the unknown-keyword check."""
    return frozenset(
        key for key in _BOUNDS for node in (old, new) if key in node and _number(node[key]) is None
    )


def _bound(node: Branch, inclusive: str, exclusive: str, pick: Any) -> tuple[Fraction, bool] | None:
    """The effective (value, exclusive) bound; `pick` chooses the tighter of maximum/exclusiveMaximum."""
    bounds = [
        (value, is_exclusive)
        for key, is_exclusive in ((inclusive, False), (exclusive, True))
        if (value := _number(node.get(key))) is not None
    ]
    return pick(bounds, key=lambda b: (b[0], b[1] == (pick is max))) if bounds else None


def _numeric(old: Branch, new: Branch, path: str) -> list[str]:
    problems: list[str] = []
    for name, inclusive, exclusive, pick, sign in (
        ("lower bound", "minimum", "exclusiveMinimum", max, 1),
        ("upper bound", "maximum", "exclusiveMaximum", min, -1),
    ):
        before, after = _bound(old, inclusive, exclusive, pick), _bound(new, inclusive, exclusive, pick)
        if after is None:
            continue
        if before is None:
            problems.append(f"{_where(path)}: {name} {_fmt_bound(after)} added")
        elif sign * (after[0] - before[0]) > 0 or (after[0] == before[0] and after[1] and not before[1]):
            problems.append(f"{_where(path)}: {name} tightened from {_fmt_bound(before)} to {_fmt_bound(after)}")
    return problems + _multiple_of(old, new, path)


def _fmt_bound(bound: tuple[Fraction, bool]) -> str:
    return f"{'exclusive ' if bound[1] else ''}{float(bound[0]):g}"


def _multiple_of(old: Branch, new: Branch, path: str) -> list[str]:
    before, after = _number(old.get("multipleOf")), _number(new.get("multipleOf"))
    if after is None or (before is not None and (before / after).denominator == 1):
        return []
    return [f"{_where(path)}: multipleOf {new['multipleOf']} is not a divisor of {old.get('multipleOf')}"]


def _required(old: Branch, new: Branch, path: str) -> list[str]:
    before, after = set(old.get("required", [])), new.get("required", [])
    known = old.get("properties", {})
    return [
        f"{_join(path, name)}: optional property became required"
        if name in known
        else f"{_join(path, name)}: required property added"
        for name in after
        if name not in before
    ]


def _default(old: Schema, new: Schema, path: str) -> list[str]:
    """A changed default changes how a reader fills in a message that omits the property."""
    if not (isinstance(old, dict) and isinstance(new, dict) and "default" in old and "default" in new):
        return []
    if canon(old["default"]) == canon(new["default"]):
        return []
    return [f"{path}: default changed from {_show(old['default'])} to {_show(new['default'])}"]


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def _shown(present: list[Any]) -> str:
    return _show(present[0]) if present else "(absent)"


def _where(path: str) -> str:
    return path or "(root)"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def unique(problems: Iterable[str]) -> list[str]:
    """Problems without repeats, in first-seen order."""
    return list(dict.fromkeys(problems))
