"""The minimal child details for referral: never NIK, KK or a mother's name, and the withdrawal carries none."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from simpul_contracts import DataClass, decode_event
from simpul_contracts import catalogue as catalogue_rules
from simpul_contracts.events import ChildReferralDetailsRecordedV1, ChildReferralDetailsWithdrawnV1
from simpul_contracts.layout import Layout

AT = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
DETAILS = ChildReferralDetailsRecordedV1.model_validate({
    "child_id": "chd_1", "full_name": "Siti Contoh", "sex": "female", "birth_date": date(2014, 3, 2),
    "birth_date_precision": "day", "village_code": "35.09.11.2007",
    "guardians": [{"name": "Sulastri", "relationship": "mother", "phone": "+62 812-3456-7890"}],
    "consent_given_on": date(2026, 5, 30), "recorded_at": AT})
FORBIDDEN = ("nik", "kk", "mother")


def _field_names(document: dict[str, object]) -> set[str]:
    names: set[str] = set()
    for node in [document, *dict(document.get("$defs", {})).values()]:  # type: ignore[call-overload]
        names |= set(node.get("properties", {}))
    return names


@pytest.mark.parametrize("model", [ChildReferralDetailsRecordedV1, ChildReferralDetailsWithdrawnV1])
def test_no_nik_kk_or_mother_field_at_any_depth(model: type[ChildReferralDetailsRecordedV1]) -> None:
    names = _field_names(model.model_json_schema())

    assert not [name for name in names for word in FORBIDDEN if word in name.lower().split("_")]


def test_the_withdrawal_carries_no_details() -> None:
    assert set(ChildReferralDetailsWithdrawnV1.model_fields) == {"child_id", "reason", "recorded_at"}


def test_a_nik_sent_anyway_is_dropped_on_read() -> None:
    document = json.loads(DETAILS.to_bytes()) | {"nik": "3509114203140001", "kk_number": "3509110101010001"}

    decoded = decode_event(DETAILS.envelope(), json.dumps(document).encode())

    assert decoded == DETAILS
    assert "3509114203140001" not in decoded.model_dump_json()


def test_the_topic_is_restricted_and_keyed_by_child() -> None:
    topic = catalogue_rules.load(Layout().topics)[ChildReferralDetailsRecordedV1.topic]

    assert (topic.owner, topic.data_class, topic.key) == ("registry", "restricted", "child_id")
    assert ChildReferralDetailsWithdrawnV1.topic == topic.name
    assert ChildReferralDetailsRecordedV1.data_class is DataClass.RESTRICTED
    assert DETAILS.key == DETAILS.envelope().subject == "chd_1"
