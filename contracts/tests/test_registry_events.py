"""The registry's events: nothing identifying leaves on pseudonymous topics, and every event survives the wire."""

from __future__ import annotations

import enum
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from simpul_contracts import CloudEvent, ContractError, DataClass, Event, compatibility, decode_event, event_types
from simpul_contracts import catalogue as catalogue_rules
from simpul_contracts.events import (
    CaseStatusChangedV1,
    ChildClassifiedV1,
    ChildErasedV1,
    ChildIdentityRecordedV1,
    ChildRegisteredV1,
    ChildUpdatedV1,
    ConsentChangedV1,
    MonitoringVisitRecordedV1,
)
from simpul_contracts.events.common import Id
from simpul_contracts.layout import Layout
from simpul_contracts.snapshots import schema

CHILD_TOPIC = "registry.child.v1"
AT = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
ALL_EVENTS: list[type[Event]] = sorted(event_types().values(), key=lambda model: model.event_type)
NOT_RESTRICTED = sorted(
    (model for model in event_types().values() if model.data_class is not DataClass.RESTRICTED),
    key=lambda model: model.event_type,
)
SNAPSHOT_FIELDS = ("child_id", "person_id", "sex", "birth_year", "village_code", "case_id", "classification", "status")

# Words in a field name that suggest identifying data or free text (which can contain names).
IDENTIFYING_WORDS = frozenset({
    "name", "names", "nickname", "alias", "aliases", "nik", "kk", "mother", "mothers", "father", "guardian",
    "note", "notes", "comment", "comments", "remark", "remarks", "text", "address", "phone", "email", "dob",
})
IDENTIFYING_PHRASES = ("birth_date", "birthdate", "date_of_birth", "birth_day", "birthday")
# String formats that are not free text.
CODED_FORMATS = frozenset({"date", "date-time"})

SNAPSHOT: dict[str, Any] = {
    "child_id": "chd_0123456789abcdef",
    "person_id": "per_42",
    "sex": "female",
    "birth_year": 2014,
    "village_code": "35.09.11.2007",
    "case_id": "cas_0123456789abcdef",
    "classification": "child_labourer",
    "status": "monitoring",
}
EXAMPLES: dict[type[Event], dict[str, Any]] = {
    ChildRegisteredV1: {**SNAPSHOT, "person_id": None, "birth_year": None, "case_id": None,
                        "classification": None, "status": None, "registered_at": AT},
    ChildUpdatedV1: {**SNAPSHOT, "updated_at": AT},
    ChildClassifiedV1: {**SNAPSHOT, "classification": "at_risk", "previous": "child_labourer",
                        "reason": "reclassified", "classified_at": AT, "classified_by": "district-officer-7"},
    CaseStatusChangedV1: {**SNAPSHOT, "previous": "monitoring", "status": "closed", "closure_reason": "withdrawn",
                          "changed_at": AT, "changed_by": "district-officer-7"},
    ConsentChangedV1: {**SNAPSHOT, "purpose": "referral", "decision": "given", "decided_on": date(2025, 5, 30),
                       "decision_in_force": "given", "recorded_at": AT, "recorded_by": "kader-kesilir"},
    MonitoringVisitRecordedV1: {**SNAPSHOT, "visit_id": "vis_1", "visited_on": date(2025, 5, 31),
                                "visited_by": "kader-kesilir", "child_working": True,
                                "sectors": ["tobacco", "other_agriculture"],
                                "hazards": ["green_tobacco_sickness", "extreme_heat"], "hours_per_week": 20,
                                "school_status": "enrolled", "school_grade": 5, "attends_school_regularly": False},
    ChildErasedV1: {**SNAPSHOT, "source_system": "simpul-registry", "source_record_id": "chd_0123456789abcdef",
                    "reason": "data_subject_request", "erased_at": AT},
}
REGISTRY_CHILD_EVENTS = sorted(EXAMPLES, key=lambda model: model.event_type)


def _example(model: type[Event], **changes: Any) -> Event:
    return model.model_validate({**EXAMPLES[model], **changes})


# --- the structural privacy test ------------------------------------------------------------------------------


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/$defs/"):
        node = root["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def _leaves(node: Any, root: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives a property's value can take, through $ref, anyOf/oneOf and array items."""
    node = _resolve(node, root)
    if not isinstance(node, dict):
        return []
    alternatives = node.get("anyOf") or node.get("oneOf")
    if alternatives:
        return [leaf for sub in alternatives for leaf in _leaves(sub, root)]
    if node.get("type") == "array":
        return _leaves(node.get("items", {}), root)
    return [] if node.get("type") == "null" else [node]


def _is_coded(leaf: dict[str, Any]) -> bool:
    return "enum" in leaf or "const" in leaf


def _is_free_text(leaf: dict[str, Any]) -> bool:
    return leaf.get("type") == "string" and not _is_coded(leaf) and "pattern" not in leaf and (
        leaf.get("format") not in CODED_FORMATS
    )


def privacy_problems(model: type[BaseModel]) -> list[str]:
    """Fields of a non-restricted event that suggest identifying data or can carry free text."""
    document = model.model_json_schema(mode="validation")
    problems = []
    for field, node in (document.get("properties") or {}).items():
        words = set(field.lower().split("_"))
        leaves = _leaves(node, document)
        if words & IDENTIFYING_WORDS or any(phrase in field.lower() for phrase in IDENTIFYING_PHRASES):
            problems.append(f"{field}: name suggests identifying data")
        if "reason" in words and not all(_is_coded(leaf) for leaf in leaves):
            problems.append(f"{field}: a reason must be a code, not text")
        if any(_is_free_text(leaf) for leaf in leaves):
            problems.append(f"{field}: unconstrained text")
        if any(leaf.get("type") == "object" for leaf in leaves):
            problems.append(f"{field}: nested objects are not checked; flatten or extend this test")
    return problems


def test_the_suite_covers_every_pseudonymous_registry_event() -> None:
    registry_pseudonymous = {m for m in NOT_RESTRICTED if m.source == "simpul/registry"}

    assert registry_pseudonymous == set(EXAMPLES)


@pytest.mark.parametrize("model", NOT_RESTRICTED, ids=lambda model: model.event_type)
def test_no_identifying_field_or_free_text_outside_restricted_topics(model: type[Event]) -> None:
    assert privacy_problems(model) == []


class _Leaky(BaseModel):
    """What the privacy test must catch (a plain model: an Event subclass would register itself)."""

    child_id: str
    full_name: str
    mother_name: str | None = None
    nik: str | None = None
    kk_number: str | None = None
    birth_date: date | None = None
    notes: str = ""
    closure_reason: str | None = None
    work_activities: list[str] = []


class _Coded(enum.StrEnum):
    A = "a"


class _Clean(BaseModel):
    """Codes, ids and dates only."""

    child_id: Id = "x"
    reason: _Coded | None = None
    visited_on: date | None = None


def test_the_privacy_test_catches_identifying_fields_and_free_text() -> None:
    problems = "\n".join(privacy_problems(_Leaky))

    for field in ("full_name", "mother_name", "nik", "kk_number", "birth_date", "notes"):
        assert f"{field}: name suggests identifying data" in problems
    assert "closure_reason: a reason must be a code" in problems
    assert "work_activities: unconstrained text" in problems
    assert "child_id: unconstrained text" in problems  # an id without a pattern could hold anything


def test_the_privacy_test_accepts_codes_ids_and_dates() -> None:
    assert privacy_problems(_Clean) == []


@pytest.mark.parametrize("model", REGISTRY_CHILD_EVENTS, ids=lambda model: model.event_type)
def test_every_child_event_carries_the_pseudonymous_snapshot(model: type[Event]) -> None:
    assert set(SNAPSHOT_FIELDS) <= set(model.model_fields)
    assert "birth_date" not in model.model_fields
    document = schema(model)
    assert [leaf["type"] for leaf in _leaves(document["properties"]["birth_year"], document)] == ["integer"]


# --- the catalogue --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda model: model.event_type)
def test_each_event_topic_is_catalogued_with_its_data_class(model: type[Event]) -> None:
    topics = catalogue_rules.load(Layout().topics)

    assert model.topic in topics
    assert topics[model.topic].data_class == str(model.data_class)
    assert catalogue_rules.event_problems(model, topics) == []


def test_the_child_topic_is_the_registrys_pseudonymous_topic_keyed_by_child() -> None:
    topic = catalogue_rules.load(Layout().topics)[CHILD_TOPIC]

    assert (topic.owner, topic.data_class, topic.key) == ("registry", "pseudonymous", "child_id")
    assert {model.topic for model in REGISTRY_CHILD_EVENTS} == {CHILD_TOPIC}
    assert ChildIdentityRecordedV1.topic == "registry.child-identity.v1"
    assert ChildIdentityRecordedV1.data_class is DataClass.RESTRICTED


# --- on the wire ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", REGISTRY_CHILD_EVENTS, ids=lambda model: model.event_type)
def test_round_trip_through_envelope_headers(model: type[Event]) -> None:
    event = _example(model)
    headers = event.envelope().to_headers([("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")])
    envelope = CloudEvent.from_headers(headers)
    decoded = decode_event(envelope, event.to_bytes())

    assert decoded == event
    assert type(decoded) is model
    assert envelope.type == model.event_type
    assert envelope.source == "simpul/registry"
    assert envelope.subject == event.key == EXAMPLES[model]["child_id"]
    assert envelope.dataschema == model.dataschema()
    assert schema(model)["x-topic"] == CHILD_TOPIC


@pytest.mark.parametrize("model", REGISTRY_CHILD_EVENTS, ids=lambda model: model.event_type)
def test_unknown_fields_are_ignored(model: type[Event]) -> None:
    event = _example(model)
    document = json.loads(event.to_bytes())
    document.update(added_in_a_later_revision={"any": "thing"}, full_name="Siti Contoh Palsu")

    decoded = decode_event(event.envelope(), json.dumps(document).encode())

    assert decoded == event
    assert "full_name" not in decoded.model_dump()


@pytest.mark.parametrize("model", REGISTRY_CHILD_EVENTS, ids=lambda model: model.event_type)
def test_events_are_frozen(model: type[Event]) -> None:
    event = _example(model)

    with pytest.raises(ValidationError):
        event.child_id = "other"  # type: ignore[misc]


@pytest.mark.parametrize("model", REGISTRY_CHILD_EVENTS, ids=lambda model: model.event_type)
def test_the_snapshot_is_required_even_when_null(model: type[Event]) -> None:
    document = json.loads(_example(model).to_bytes())
    del document["person_id"]

    with pytest.raises(ContractError, match="person_id"):
        decode_event(_example(model).envelope(), json.dumps(document).encode())


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (CaseStatusChangedV1, "changed_by", "siti.aminah@example.org"),  # an actor id, not an e-mail address
        (CaseStatusChangedV1, "changed_by", "Siti Aminah"),  # nor a name
        (CaseStatusChangedV1, "closure_reason", "keluarga pindah ke Bali"),  # a code, not text
        (ChildClassifiedV1, "reason", "bekerja di ladang tembakau"),
        (CaseStatusChangedV1, "status", None),  # a case event always has a status
        (MonitoringVisitRecordedV1, "hazards", ["tangan terluka"]),
        (MonitoringVisitRecordedV1, "hours_per_week", 169),
        (MonitoringVisitRecordedV1, "school_grade", 13),
        (ChildUpdatedV1, "birth_year", 1850),
        (ChildUpdatedV1, "village_code", "Kesilir"),
        (ChildRegisteredV1, "registered_at", "2025-06-01T09:30:00"),  # times carry their offset
    ],
)
def test_values_outside_the_contract_are_named_not_echoed(model: type[Event], field: str, value: Any) -> None:
    document = json.loads(_example(model).to_bytes())
    document[field] = value

    with pytest.raises(ContractError) as caught:
        decode_event(_example(model).envelope(), json.dumps(document).encode())
    assert field in str(caught.value)
    if isinstance(value, str):
        assert value not in str(caught.value)


# --- releasing ------------------------------------------------------------------------------------------------


def test_unreleased_events_pass_the_gate_and_can_be_released(workspace: Layout) -> None:
    assert compatibility.verify(workspace) == []

    recorded = compatibility.release_all(workspace)  # a copy: contracts/released/ is never touched here

    assert compatibility.verify(workspace) == []
    assert set(recorded) <= set(event_types())
    released = set(compatibility.released_types(workspace.released))
    assert {model.event_type for model in REGISTRY_CHILD_EVENTS} <= released
