"""`check(old, new)`: each kind of change applied to a real released schema, and to pydantic-made ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from simpul_contracts import snapshots
from simpul_contracts.compatibility import check

Schema = dict[str, Any]


def changed(schema: Schema, edit: Callable[[Schema], object]) -> Schema:
    """A deep copy of `schema` with `edit` applied."""
    copy: Schema = json.loads(json.dumps(schema))
    edit(copy)
    return copy


def props(schema: Schema) -> Schema:
    return schema["properties"]


def one(problems: list[str], *needles: str) -> str:
    """The single problem reported, which must mention every needle."""
    assert len(problems) == 1, problems
    for needle in needles:
        assert needle in problems[0]
    return problems[0]


# --- incompatible: each must be reported --------------------------------------------------------------


def test_removing_a_property(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: props(s).pop("mother_name"))
    one(check(registry_schema, new), "mother_name", "property removed")


def test_renaming_a_property(registry_schema: Schema) -> None:
    def rename(s: Schema) -> None:
        props(s)["mothers_name"] = props(s).pop("mother_name")

    one(check(registry_schema, changed(registry_schema, rename)), "mother_name", "removed")


def test_adding_a_required_property(registry_schema: Schema) -> None:
    def add(s: Schema) -> None:
        props(s)["district_code"] = {"type": "string"}
        s["required"].append("district_code")

    one(check(registry_schema, changed(registry_schema, add)), "district_code", "required property added")


def test_making_an_optional_property_required(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: s["required"].append("nik"))
    one(check(registry_schema, new), "nik", "optional property became required")


def test_changing_a_property_type(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: props(s)["full_name"].update(type="integer"))
    one(check(registry_schema, new), "full_name", "type changed", "string")


def test_no_longer_accepting_null(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: props(s).update(birth_date={"type": "string", "format": "date"}))
    one(check(registry_schema, new), "birth_date", "null no longer accepted")


def test_changing_the_type_inside_a_nullable(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: props(s)["kk_number"]["anyOf"][0].update(type="integer"))
    one(check(registry_schema, new), "kk_number", "string no longer accepted")


def test_narrowing_an_enum_behind_a_ref(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: s["$defs"]["Sex"]["enum"].remove("unknown"))
    one(check(registry_schema, new), "sex", "enum values removed", "unknown")


def test_narrowing_an_enum_behind_a_nullable_ref(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: s["$defs"]["DatePrecision"]["enum"].remove("year"))
    one(check(registry_schema, new), "birth_date_precision", "enum values removed", "year")


def test_replacing_a_ref_with_a_narrower_inline_enum(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: props(s).update(sex={"type": "string", "enum": ["female", "male"]}))
    one(check(registry_schema, new), "sex", "enum values removed")


def test_restricting_a_free_string_to_an_enum(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: props(s)["full_name"].update(enum=["A"]))
    one(check(registry_schema, new), "full_name", "now restricted to the values")


def test_changing_a_pattern(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: props(s)["nik"]["anyOf"][0].update(pattern=r"^\d{17}$"))
    one(check(registry_schema, new), "nik", "pattern changed")


def test_adding_a_pattern(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: props(s)["full_name"].update(pattern="^[A-Z]"))
    one(check(registry_schema, new), "full_name", "pattern", "added")


@pytest.mark.parametrize(
    ("field", "keyword", "value", "message"),
    [
        ("full_name", "maxLength", 100, "maxLength tightened from 200 to 100"),
        ("child_id", "minLength", 2, "minLength tightened from 1 to 2"),
        ("recorded_at", "format", "date", "format changed"),
        ("full_name", "format", "email", "format \"email\" added"),
    ],
)
def test_tightening_string_constraints(
    registry_schema: Schema, field: str, keyword: str, value: object, message: str
) -> None:
    new = changed(registry_schema, lambda s: props(s)[field].update({keyword: value}))
    one(check(registry_schema, new), field, message)


def test_open_to_closed_is_incompatible(registry_schema: Schema) -> None:
    old = changed(registry_schema, lambda s: s.pop("additionalProperties"))
    one(check(old, registry_schema), "(root)", "open -> closed")


def test_adding_a_property_to_an_open_schema_constrains_old_messages(registry_schema: Schema) -> None:
    old = changed(registry_schema, lambda s: s.pop("additionalProperties"))
    new = changed(old, lambda s: props(s).update(school={"type": "string"}))
    one(check(old, new), "school", "open schema")


def test_changing_a_default(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: props(s)["nik"].update(default="0000000000000000"))
    one(check(registry_schema, new), "nik", "default changed")


@pytest.mark.parametrize("key", ["x-topic", "x-data-class"])
def test_moving_topic_or_data_class(registry_schema: Schema, key: str) -> None:
    new = changed(registry_schema, lambda s: s.update({key: "somewhere-else"}))
    one(check(registry_schema, new), key, "changed")


def test_an_unknown_keyword_changing_is_reported_not_passed(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: props(s)["full_name"].update({"not": {"const": "x"}}))
    one(check(registry_schema, new), "full_name", "`not` changed from (absent)", "treated as incompatible")


def test_a_remote_ref_that_changed_is_reported(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: props(s).update(sex={"$ref": "https://example.org/sex.json"}))
    one(check(registry_schema, new), "sex", "cannot be verified")


def test_undiscriminated_one_of_changes_are_reported() -> None:
    old = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    new = {"oneOf": [{"type": "string"}, {"type": "number"}]}

    assert check(old, old) == []
    one(check(old, new), "cannot be verified")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ({"type": "integer", "minimum": 0}, {"type": "integer", "minimum": 1}, "lower bound tightened"),
        ({"type": "integer", "minimum": 0}, {"type": "integer", "exclusiveMinimum": 0}, "lower bound tightened"),
        ({"type": "number"}, {"type": "number", "maximum": 10}, "upper bound 10 added"),
        ({"type": "number", "maximum": 10}, {"type": "number", "exclusiveMaximum": 10}, "upper bound tightened"),
        ({"type": "integer", "multipleOf": 2}, {"type": "integer", "multipleOf": 4}, "multipleOf"),
        ({"type": "number"}, {"type": "integer"}, "number no longer accepted"),
        ({"type": "array", "items": {"type": "string"}}, {"type": "array", "items": {"type": "integer"}}, "[]"),
        ({"type": "array", "maxItems": 5}, {"type": "array", "maxItems": 4}, "maxItems tightened"),
        ({"type": "array"}, {"type": "array", "uniqueItems": True}, "uniqueItems added"),
        ({}, {"type": "string"}, "type now restricted to string"),
        ({"const": "a"}, {"const": "b"}, "enum values removed"),
        ({"enum": ["a", 1]}, {"type": "string"}, "integer no longer accepted"),
        (True, False, "no longer accepts any value"),
    ],
)
def test_other_narrowings(old: Schema, new: Schema, message: str) -> None:
    one(check(old, new), message)


# --- compatible: each must pass -----------------------------------------------------------------------


def test_identical_schemas(registry_schema: Schema) -> None:
    assert check(registry_schema, registry_schema) == []


def test_adding_an_optional_property(registry_schema: Schema) -> None:
    def add(s: Schema) -> None:
        props(s)["school_name"] = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}

    assert check(registry_schema, changed(registry_schema, add)) == []


def test_widening_an_enum(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: s["$defs"]["Sex"]["enum"].append("other"))
    assert check(registry_schema, new) == []


def test_documentation_changes(registry_schema: Schema) -> None:
    def document(s: Schema) -> None:
        s["description"] = "Reworded."
        props(s)["full_name"]["title"] = "Name"
        props(s)["village_code"]["examples"] = ["11.01.01.2001"]
        s["$defs"]["Sex"]["description"] = "Reworded too."

    assert check(registry_schema, changed(registry_schema, document)) == []


def test_closed_to_open(registry_schema: Schema) -> None:
    new = changed(registry_schema, lambda s: s.update(additionalProperties=True))
    assert check(registry_schema, new) == []


def test_loosening_constraints(registry_schema: Schema) -> None:
    def loosen(s: Schema) -> None:
        props(s)["full_name"]["maxLength"] = 500
        del props(s)["child_id"]["minLength"]
        del props(s)["nik"]["anyOf"][0]["pattern"]
        del props(s)["recorded_at"]["format"]

    assert check(registry_schema, changed(registry_schema, loosen)) == []


def test_required_becoming_optional_and_nullable(registry_schema: Schema) -> None:
    def relax(s: Schema) -> None:
        s["required"].remove("full_name")
        props(s)["full_name"] = {"anyOf": [props(s)["full_name"], {"type": "null"}], "default": None}

    assert check(registry_schema, changed(registry_schema, relax)) == []


def test_inlining_or_renaming_a_def(registry_schema: Schema) -> None:
    def inline(s: Schema) -> None:
        props(s)["sex"] = s["$defs"].pop("Sex")
        s["$defs"]["Precision"] = s["$defs"].pop("DatePrecision")
        props(s)["birth_date_precision"]["anyOf"][0] = {"$ref": "#/$defs/Precision"}

    assert check(registry_schema, changed(registry_schema, inline)) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"type": "integer"}, {"type": "number"}),
        ({"type": "integer", "minimum": 1}, {"type": "integer", "exclusiveMinimum": 0}),
        ({"type": "integer", "multipleOf": 4}, {"type": "integer", "multipleOf": 2}),
        ({"type": "string"}, {"type": ["string", "null"]}),
        ({"enum": ["a", "b"]}, {"type": "string"}),
        ({"enum": ["a", 1]}, {"anyOf": [{"type": "string"}, {"type": "integer"}]}),
        ({"type": ["string", "null"], "enum": ["a", None]}, {"anyOf": [{"enum": ["a", "b"]}, {"type": "null"}]}),
        ({"type": "string", "enum": ["a", 1]}, {"const": "a"}),
        ({"type": "string"}, {}),
        (False, {"type": "string"}),
        ({"oneOf": [{"$ref": "#/$defs/A"}], "discriminator": {"propertyName": "k"}, "$defs": {"A": {"type": "object"}}},
         {"anyOf": [{"type": "object"}, {"type": "null"}]}),
    ],
)
def test_other_widenings(old: Schema, new: Schema) -> None:
    assert check(old, new) == []


# --- the forms pydantic emits --------------------------------------------------------------------------


class Address(BaseModel):
    village_code: str = Field(pattern=r"^\d{2}$")


class Person(BaseModel):
    kind: Literal["person"] = "person"
    name: str
    age: int = Field(ge=0)
    address: Address
    previous: list[Address] = []
    tags: dict[str, int] = {}
    parent: Person | None = None


class PersonNarrowed(Person):
    age: int = Field(ge=1)


class AddressLoose(BaseModel):
    village_code: str


class PersonLooseAddress(Person):
    address: AddressLoose
    previous: list[AddressLoose] = []


def closed(model: type[BaseModel]) -> Schema:
    document = model.model_json_schema()
    snapshots.close(document)
    return document


def test_recursive_pydantic_models_terminate_and_compare() -> None:
    assert check(closed(Person), closed(Person)) == []
    one(check(closed(Person), closed(PersonNarrowed)), "age", "lower bound tightened")


def test_nested_models_are_compared_through_refs_and_arrays() -> None:
    assert check(closed(Person), closed(PersonLooseAddress)) == []
    problems = check(closed(PersonLooseAddress), closed(Person))
    assert any(problem.startswith("address.village_code: pattern") for problem in problems)
    assert any(problem.startswith("previous[].village_code: pattern") for problem in problems)
