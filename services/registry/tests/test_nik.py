"""NIK and KK parsing, and the warnings a NIK raises against the record."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from registry.domain.identity_numbers import (
    InvalidIdentityNumber,
    Nik,
    WarningCode,
    eighteenth_birthday,
    nik_consistency,
    parse_kk,
    parse_nik,
)
from registry.domain.model import DatePrecision, Sex

# Fake numbers: 99 is no province code.
MALE_NIK = "9901011503100123"  # 15 March (20)10
FEMALE_NIK = "9901015503100123"  # the same date, day + 40


def test_a_male_nik_is_split_into_region_birth_date_sex_and_serial() -> None:
    nik = parse_nik(MALE_NIK)
    assert (nik.region_code, nik.birth_day, nik.birth_month, nik.birth_year_two_digits) == ("99.01.01", 15, 3, 10)
    assert (nik.sex, nik.serial, nik.value) == (Sex.MALE, "0123", MALE_NIK)


def test_a_female_nik_has_40_added_to_the_day() -> None:
    nik = parse_nik(FEMALE_NIK)
    assert (nik.sex, nik.birth_day, nik.birth_month) == (Sex.FEMALE, 15, 3)


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_nik(f"  {MALE_NIK}\n").value == MALE_NIK


@pytest.mark.parametrize(("value", "reason"), [
    ("99010115031001x3", "only digits"),
    ("9901 0115 0310 0123", "only digits"),
    ("9,90101E+15", "only digits"),
    ("990101150310012", "16 digits, has 15"),
    ("", "16 digits, has 0"),
    ("1111111111111111", "placeholder"),
    ("0000000000000000", "placeholder"),
    ("1234567890123456", "placeholder"),
    ("6543210987654321", "placeholder"),
    ("9901011503100000", "serial is all zeros"),
    ("9900011503100123", "region digits contain 00"),
    ("9901013102990123", "not a calendar date"),  # 31 February
    ("9901017102990123", "not a calendar date"),  # 31 February for a female: 71 - 40
    ("9901012902010123", "not a calendar date"),  # 29 February in neither 1901 nor 2001
    ("9901013503100123", "not a calendar date"),  # day 35: neither a male nor a female day
    ("9901014003100123", "not a calendar date"),  # day 40: a female's day 0
    ("9901011513100123", "not a calendar date"),  # month 13
])
def test_impossible_niks_are_rejected_naming_the_field_without_the_digits(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentityNumber, match=r"^nik: ") as caught:
        parse_nik(value)
    assert reason in caught.value.reason
    assert not re.search(r"\d{3}", str(caught.value))


@pytest.mark.parametrize("value", ["9901012902000123", "9901016902040123"])
def test_29_february_is_accepted_in_a_two_digit_leap_year(value: str) -> None:
    assert parse_nik(value).birth_day == 29


def test_the_region_is_checked_against_reference_data_when_the_caller_asks() -> None:
    asked: list[str] = []

    def known(code: str) -> bool:
        asked.append(code)
        return code == "35.09.11"

    assert parse_nik("3509111503100123", known_region=known).region_code == "35.09.11"
    with pytest.raises(InvalidIdentityNumber, match="not a kecamatan of the region reference data"):
        parse_nik(MALE_NIK, known_region=known)
    assert asked == ["35.09.11", "99.01.01"]


def test_the_repr_does_not_show_the_number() -> None:
    assert MALE_NIK not in repr(parse_nik(MALE_NIK))
    assert MALE_NIK not in repr(parse_kk(MALE_NIK))


@st.composite
def nik_parts(draw: st.DrawFn) -> tuple[str, dt.date, Sex, str]:
    region = ".".join(f"{draw(st.integers(1, 99)):02d}" for _ in range(3))
    birth = draw(st.dates(dt.date(1950, 1, 1), dt.date(2049, 12, 31)))
    sex = draw(st.sampled_from([Sex.MALE, Sex.FEMALE]))
    serial = f"{draw(st.integers(1, 9999)):04d}"
    return region, birth, sex, serial


@given(nik_parts())
def test_a_nik_built_from_valid_parts_parses_back_into_them(parts: tuple[str, dt.date, Sex, str]) -> None:
    region, birth, sex, serial = parts
    day = birth.day + (40 if sex is Sex.FEMALE else 0)
    value = f"{region.replace('.', '')}{day:02d}{birth:%m%y}{serial}"
    assume({(int(b) - int(a)) % 10 for a, b in itertools.pairwise(value)} not in ({0}, {1}, {9}))
    nik = parse_nik(value)
    assert (nik.region_code, nik.sex, nik.serial) == (region, sex, serial)
    assert (nik.birth_day, nik.birth_month, nik.birth_year_two_digits) == (birth.day, birth.month, birth.year % 100)


@given(st.text(alphabet="0123456789 x", min_size=0, max_size=18))
def test_any_value_is_a_nik_or_an_error_that_repeats_none_of_its_digits(value: str) -> None:
    error: InvalidIdentityNumber | None = None
    try:
        parse_nik(value)
    except InvalidIdentityNumber as caught:
        error = caught
    if error is not None:
        assert error.field == "nik"
        assert not re.search(r"\d{3}", str(error))


def test_a_kk_is_16_digits_starting_with_a_region() -> None:
    assert parse_kk("9901010101100001").region_code == "99.01.01"
    for value, reason in [("99010101011000", "16 digits"), ("2222222222222222", "placeholder"),
                          ("0001010101100001", "00")]:
        with pytest.raises(InvalidIdentityNumber, match=r"^kk_number: ") as caught:
            parse_kk(value)
        assert reason in caught.value.reason


AS_OF = dt.date(2024, 7, 1)


def codes(nik: Nik, sex: Sex, birth_date: dt.date | None, precision: DatePrecision | None,
          as_of: dt.date = AS_OF) -> list[WarningCode]:
    return [warning.code for warning in nik_consistency(nik, sex, birth_date, precision, as_of=as_of)]


def test_a_nik_agreeing_with_the_record_raises_no_warning() -> None:
    assert codes(parse_nik(MALE_NIK), Sex.MALE, dt.date(2010, 3, 15), DatePrecision.DAY) == []
    assert codes(parse_nik(FEMALE_NIK), Sex.FEMALE, dt.date(2010, 3, 15), None) == []


def test_a_different_sex_is_a_warning_and_an_unknown_sex_is_not() -> None:
    nik = parse_nik(FEMALE_NIK)
    warnings = nik_consistency(nik, Sex.MALE, None, None, as_of=AS_OF)
    assert [(w.code, w.field) for w in warnings] == [(WarningCode.SEX_DIFFERS, "sex")]
    assert codes(nik, Sex.UNKNOWN, None, None) == []


def test_a_different_birth_date_is_a_warning_never_an_error() -> None:
    warnings = nik_consistency(parse_nik(MALE_NIK), Sex.MALE, dt.date(2010, 3, 16), DatePrecision.DAY, as_of=AS_OF)
    assert [(w.code, w.field) for w in warnings] == [(WarningCode.BIRTH_DATE_DIFFERS, "birth_date")]
    assert not re.search(r"\d", warnings[0].reason)


def test_day_and_month_swapped_is_named_as_such() -> None:
    nik = parse_nik("9901010503100123")  # 5 March 2010
    assert codes(nik, Sex.MALE, dt.date(2010, 5, 3), DatePrecision.DAY) == [WarningCode.DAY_AND_MONTH_SWAPPED]


@pytest.mark.parametrize(("recorded", "precision", "expected"), [
    (dt.date(2010, 1, 1), DatePrecision.YEAR, []),
    (dt.date(2011, 3, 15), DatePrecision.YEAR, [WarningCode.BIRTH_DATE_DIFFERS]),
    (dt.date(2010, 3, 1), DatePrecision.MONTH, []),
    (dt.date(2010, 4, 1), DatePrecision.MONTH, [WarningCode.BIRTH_DATE_DIFFERS]),
])
def test_only_the_known_part_of_the_birth_date_is_compared(recorded: dt.date, precision: DatePrecision,
                                                           expected: list[WarningCode]) -> None:
    assert codes(parse_nik(MALE_NIK), Sex.MALE, recorded, precision) == expected


@pytest.mark.parametrize(("nik", "as_of", "year"), [
    ("9901011503080123", dt.date(2024, 7, 1), 2008),
    ("9901011503990123", dt.date(2010, 7, 1), 1999),
    ("9901011503000123", dt.date(2012, 7, 1), 2000),
])
def test_the_century_is_the_one_that_makes_the_holder_a_child(nik: str, as_of: dt.date, year: int) -> None:
    parsed = parse_nik(nik)
    assert parsed.birth_date(as_of).year == year
    assert codes(parsed, Sex.MALE, dt.date(year, 1, 1), DatePrecision.YEAR, as_of=as_of) == []


def test_a_parents_nik_entered_for_the_child_is_flagged() -> None:
    mothers = parse_nik("9901015503850123")  # born 1985
    assert codes(mothers, Sex.FEMALE, dt.date(2015, 1, 1), DatePrecision.YEAR) == [
        WarningCode.HOLDER_NOT_A_CHILD, WarningCode.BIRTH_DATE_DIFFERS]


def test_a_child_is_under_18_until_the_eighteenth_birthday() -> None:
    nik = parse_nik("9901011503060123")  # 15 March 2006
    assert nik.holder_is_child_on(dt.date(2024, 3, 14))
    assert not nik.holder_is_child_on(dt.date(2024, 3, 15))
    assert eighteenth_birthday(dt.date(2008, 2, 29)) == dt.date(2026, 3, 1)
