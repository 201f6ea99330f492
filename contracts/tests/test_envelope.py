"""The CloudEvents envelope survives Kafka headers, and bad records are named without leaking values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from simpul_contracts import CloudEvent, ContractError, EnvelopeError, decode_event
from simpul_contracts.events import ChildIdentityRecordedV1
from simpul_contracts.layout import Layout

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
FAKE_NIK = "9999010101990001"  # not a real NIK: 99 is no province code
FAKE_NAME = "Siti Contoh Palsu"


def _event(**changes: object) -> ChildIdentityRecordedV1:
    fields: dict[str, object] = {
        "child_id": "c-1",
        "source_system": "simpul-registry",
        "source_record_id": "c-1",
        "full_name": FAKE_NAME,
        "sex": "female",
        "nik": FAKE_NIK,
        "village_code": "35.09.11.2007",
        "recorded_at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    fields.update(changes)
    return ChildIdentityRecordedV1.model_validate(fields)


def _body(**changes: object) -> bytes:
    document = json.loads(_event().to_bytes())
    document.update(changes)
    return json.dumps(document).encode()


def test_envelope_round_trips_through_headers() -> None:
    envelope = CloudEvent(
        type="simpul.test.thing.v1",
        source="simpul/test",
        subject="agg-1",
        dataschema="https://simpul.id/contracts/schemas/simpul.test.thing.v1.json",
        time=datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=7))),  # WIB keeps its offset
    )
    headers = envelope.to_headers([("traceparent", TRACEPARENT)])
    names = [name for name, _ in headers]

    assert names[:7] == [f"ce_{a}" for a in ("id", "source", "type", "specversion", "time", "subject", "dataschema")]
    assert ("content-type", b"application/json") in headers
    assert ("traceparent", TRACEPARENT.encode()) in headers
    assert CloudEvent.from_headers(headers) == envelope


def test_model_envelope_names_its_committed_schema_and_key() -> None:
    event = _event()
    back = CloudEvent.from_headers(event.envelope().to_headers())
    snapshot = json.loads((Layout().schemas / ChildIdentityRecordedV1.schema_name()).read_text())

    assert back.type == ChildIdentityRecordedV1.event_type
    assert back.subject == event.key == "c-1"
    assert back.dataschema == snapshot["$id"]
    assert event.envelope().id != event.envelope().id  # a fresh idempotency key per envelope


def test_missing_headers_are_named() -> None:
    headers = [(n, v) for n, v in _event().envelope().to_headers() if n not in {"ce_id", "ce_type"}]

    with pytest.raises(EnvelopeError) as caught:
        CloudEvent.from_headers(headers)
    message = str(caught.value)
    assert "ce_id" in message
    assert "ce_type" in message
    assert "ce_source" not in message


def test_no_headers_names_every_required_one() -> None:
    with pytest.raises(EnvelopeError, match="ce_id, ce_source, ce_type, ce_specversion"):
        CloudEvent.from_headers(None)


def test_wrong_spec_version_is_named() -> None:
    headers = [(n, b"0.3" if n == "ce_specversion" else v) for n, v in _event().envelope().to_headers()]

    with pytest.raises(EnvelopeError, match="ce_specversion"):
        CloudEvent.from_headers(headers)


def _headers_with(*changes: tuple[str, bytes | None]) -> list[tuple[str, bytes | None]]:
    return [*_event().envelope().to_headers(), *changes]


def test_a_null_header_after_a_value_is_absent_so_the_value_stands() -> None:
    given = _event().envelope()
    headers = [*given.to_headers(), ("ce_id", None), ("ce_subject", None)]

    envelope = CloudEvent.from_headers(headers)  # type: ignore[arg-type]
    assert envelope == given


@pytest.mark.parametrize("name", ["ce_id", "ce_subject", "ce_time", "ce_dataschema"])
def test_an_undecodable_attribute_is_named(name: str) -> None:
    with pytest.raises(EnvelopeError, match=f"header {name}: not UTF-8"):
        CloudEvent.from_headers(_headers_with((name, b"\xff\xfe")))  # type: ignore[arg-type]


def test_headers_other_than_the_attributes_are_not_read() -> None:
    envelope = CloudEvent.from_headers(_headers_with(("traceparent", b"\xff"), ("x-other", None)))  # type: ignore[arg-type]

    assert envelope.subject == "c-1"


def test_empty_optional_attributes_read_as_empty_and_no_time_as_now() -> None:
    before = datetime.now(UTC)
    envelope = CloudEvent.from_headers(_headers_with(("ce_subject", b""), ("ce_dataschema", b""), ("ce_time", b"")))  # type: ignore[arg-type]

    assert (envelope.subject, envelope.dataschema) == ("", "")
    assert envelope.time >= before


def test_decode_event_reads_a_valid_record_and_ignores_unknown_fields() -> None:
    event = _event()

    assert decode_event(event.envelope(), event.to_bytes()) == event
    assert decode_event(event.envelope(), _body(added_in_a_later_revision="x")) == event


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_body(nik=FAKE_NIK[:-2]), "nik"),  # too short: the fake value must not be echoed
        (_body(nik=FAKE_NIK + "x"), "nik"),
        (_body(full_name=None), "full_name"),
        (_body(sex=FAKE_NIK), "sex"),
        (_body(village_code=FAKE_NIK), "village_code"),
        (_body(recorded_at=FAKE_NIK + "T"), "recorded_at"),
    ],
)
def test_decode_errors_name_fields_but_never_values(body: bytes, field: str) -> None:
    with pytest.raises(ContractError) as caught:
        decode_event(_event().envelope(), body)
    message = str(caught.value)

    assert field in message
    for secret in (FAKE_NIK, FAKE_NIK[:-2], FAKE_NAME):
        assert secret not in message


def test_decode_error_for_missing_field_does_not_echo_the_rest_of_the_record() -> None:
    document = json.loads(_body())
    del document["child_id"]

    with pytest.raises(ContractError, match="child_id") as caught:
        decode_event(_event().envelope(), json.dumps(document).encode())
    assert FAKE_NIK not in str(caught.value)
    assert FAKE_NAME not in str(caught.value)


def test_decode_error_for_broken_json_does_not_echo_it() -> None:
    with pytest.raises(ContractError) as caught:
        decode_event(_event().envelope(), _body()[:-20])
    assert FAKE_NIK not in str(caught.value)


def test_unknown_event_type_is_named() -> None:
    envelope = CloudEvent(type="simpul.nobody.thing.v9", source="x", subject="s", dataschema="")

    with pytest.raises(ContractError, match="ce_type"):
        decode_event(envelope, b"{}")
