"""Identity's domain enums and the wire's stay in step: a value added on one side only fails here."""

from __future__ import annotations

import enum

import pytest

from identity.adapters.contract_mapping import link_reason
from identity.domain.events import LinkReason
from identity.domain.records import BirthDate, parse_birth_date, parse_sex
from simpul_contracts.events import identity as wire
from simpul_contracts.events.common import DatePrecision, Sex

PAIRS: list[tuple[type[enum.Enum], type[enum.Enum]]] = [(LinkReason, wire.LinkReason)]


@pytest.mark.parametrize(("domain", "contract"), PAIRS, ids=lambda e: e.__name__)
def test_domain_and_wire_enums_have_the_same_values(domain: type[enum.Enum], contract: type[enum.Enum]) -> None:
    assert {m.value for m in domain} == {m.value for m in contract}


@pytest.mark.parametrize("reason", list(LinkReason))
def test_every_link_reason_maps_to_its_wire_value(reason: LinkReason) -> None:
    assert link_reason(reason).value == reason.value


def test_every_wire_sex_but_unknown_is_one_the_engine_reads() -> None:
    assert {value: parse_sex(value.value) for value in Sex} == {
        Sex.FEMALE: "female", Sex.MALE: "male", Sex.UNKNOWN: None}


def test_every_wire_date_precision_is_one_the_engine_reads() -> None:
    read = {p: parse_birth_date("2014-03-02", p.value) for p in DatePrecision}
    assert read == {DatePrecision.DAY: BirthDate(2014, 3, 2), DatePrecision.MONTH: BirthDate(2014, 3),
                    DatePrecision.YEAR: BirthDate(2014)}
