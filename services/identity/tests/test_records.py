"""Parsing source values: NIK validity and what a NIK encodes, birth-date precision, sex spellings."""

from __future__ import annotations

import datetime as dt

import pytest

from identity.domain.records import BirthDate, parse_birth_date, parse_nik, parse_record, parse_sex

AS_OF = dt.date(2025, 6, 1)


def test_a_nik_encodes_birth_date_and_sex() -> None:
    girl = parse_nik("3509115506130004", as_of=AS_OF)  # day 55 = 15 + 40: a girl born 15 June 2013
    assert girl is not None
    assert (girl.birth, girl.sex, girl.region) == (BirthDate(2013, 6, 15), "female", "350911")
    boy = parse_nik("35.09.11.150613.0004", as_of=AS_OF)
    assert boy is not None
    assert boy.sex == "male"


@pytest.mark.parametrize(
    "value",
    [
        "0000000000000000",
        "1111111111111111",
        "3509111506130000",
        "350911150613",
        "3509113213130001",
        "9909111506130001",
        "35091115061300x1",
    ],
)
def test_placeholders_and_malformed_niks_are_not_niks(value: str) -> None:
    assert parse_nik(value, as_of=AS_OF) is None


def test_a_nik_fills_a_missing_birth_date_and_sex() -> None:
    record = parse_record({"record_id": "r", "nik": "3509115506130004"}, as_of=AS_OF)
    assert record.nik_is_childs
    assert record.effective_birth == BirthDate(2013, 6, 15)
    assert record.effective_sex == "female"


def test_the_mothers_nik_is_not_the_childs_own() -> None:
    mothers = parse_record({"record_id": "r", "nik": "3509115506850004", "birth_date": "2013-06-15"}, as_of=AS_OF)
    assert mothers.nik is not None
    assert not mothers.nik_is_childs
    assert mothers.effective_birth == BirthDate(2013, 6, 15)


def test_birth_dates_keep_their_precision_and_bad_values_are_reported() -> None:
    assert parse_birth_date("2013-06-15", "month") == BirthDate(2013, 6)
    assert parse_birth_date("2013", "year") == BirthDate(2013)
    assert parse_birth_date("2013-02-30", "day") is None
    record = parse_record({"record_id": "r", "birth_date": "15/06/2013", "sex": "X", "village_code": "35.09.11.2007"})
    assert record.birth is None
    assert set(record.problems) == {"birth_date", "sex"}
    assert record.village == "3509112007"


@pytest.mark.parametrize(
    ("text", "sex"), [("L", "male"), ("p", "female"), ("M", "male"), ("F", "female"), ("female", "female"), ("", None)]
)
def test_sex_spellings(text: str, sex: str | None) -> None:
    assert parse_sex(text) == sex
