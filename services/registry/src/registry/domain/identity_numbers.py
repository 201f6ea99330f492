"""NIK and KK, the 16-digit numbers of Indonesian civil registration, and what a NIK encodes.

A NIK reads `PP RR SS DDMMYY NNNN`: the kecamatan of first registration, the birth date with 40 added to the day
for females, a serial. It has no check digit and never changes, even when a birth date is corrected, so what it
encodes is evidence, not truth: a disagreement with the record is a warning stored on the record, never a
rejection. Errors and warnings name the field and the reason and never repeat the digits.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from registry.domain.errors import RegistryError
from registry.domain.model import DatePrecision, Sex

LENGTH = 16
FEMALE_DAY_OFFSET = 40
AGE_OF_MAJORITY = 18
_DIGITS = re.compile(r"[0-9]*")

RegionCheck = Callable[[str], bool]
"""Answers whether a kecamatan code (PP.RR.SS) exists in the reference data, retired codes included: a NIK keeps
the code of the kecamatan of first registration even after that kecamatan is split or renumbered."""


class InvalidIdentityNumber(RegistryError):
    """A value that cannot be a NIK or KK."""


@dataclass(frozen=True, repr=False)
class Nik:
    """A NIK split into what it encodes. The birth year has two digits: the century is not encoded."""

    value: str
    region_code: str
    birth_day: int
    birth_month: int
    birth_year_two_digits: int
    sex: Sex
    serial: str

    def __repr__(self) -> str:
        return f"Nik(region_code={self.region_code!r}, ...)"

    def birth_date(self, as_of: dt.date) -> dt.date:
        """The encoded birth date in the latest century not after as_of: the one making the holder a child if any."""
        dates = (_date(century + self.birth_year_two_digits, self.birth_month, self.birth_day)
                 for century in (2000, 1900))
        candidates = [d for d in dates if d is not None]  # 29 February exists in 2000 but not in 1900
        # A century apart, at most one candidate makes the holder under 18, and it is the latest one not after as_of.
        past = [d for d in candidates if d <= as_of]
        return past[0] if past else candidates[-1]

    def holder_is_child_on(self, as_of: dt.date) -> bool:
        """Whether the encoded birth date makes the holder under 18 on as_of."""
        return as_of < eighteenth_birthday(self.birth_date(as_of))


@dataclass(frozen=True, repr=False)
class Kk:
    """A family card number: household context that changes when a family moves or splits, never an identity key."""

    value: str
    region_code: str

    def __repr__(self) -> str:
        return f"Kk(region_code={self.region_code!r}, ...)"


def parse_nik(value: str, known_region: RegionCheck | None = None) -> Nik:
    """Validate a NIK and split it; surrounding whitespace is ignored, anything else that is not a digit is not."""
    digits = _sixteen_digits(value, "nik")
    if digits[12:] == "0000":
        raise InvalidIdentityNumber("nik", "the serial is all zeros, a placeholder")
    region_code = _region_code(digits, "nik")
    encoded_day, month, year = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    sex = Sex.FEMALE if encoded_day > FEMALE_DAY_OFFSET else Sex.MALE
    day = encoded_day - FEMALE_DAY_OFFSET if sex is Sex.FEMALE else encoded_day
    # A two-digit year ending in 00 is 2000 (a leap year) in one century, so 2000 + year accepts every date
    # that either century allows.
    if _date(2000 + year, month, day) is None:
        raise InvalidIdentityNumber("nik", "birth date digits are not a calendar date (after removing 40 for females)")
    _check_known_region(region_code, "nik", known_region)
    return Nik(digits, region_code, day, month, year, sex, digits[12:])


def parse_kk(value: str, known_region: RegionCheck | None = None) -> Kk:
    """Validate a family card number; like a NIK it starts with the issuing kecamatan's code."""
    digits = _sixteen_digits(value, "kk_number")
    region_code = _region_code(digits, "kk_number")
    _check_known_region(region_code, "kk_number", known_region)
    return Kk(digits, region_code)


def eighteenth_birthday(birth_date: dt.date) -> dt.date:
    """The day a person born on birth_date is no longer a child; 29 February counts from 1 March."""
    year = birth_date.year + AGE_OF_MAJORITY
    return _date(year, birth_date.month, birth_date.day) or dt.date(year, 3, 1)


class WarningCode(enum.StrEnum):
    """What a NIK and the record disagree on. Codes are stored on records: add, never rename."""

    SEX_DIFFERS = "nik_sex_differs"
    BIRTH_DATE_DIFFERS = "nik_birth_date_differs"
    DAY_AND_MONTH_SWAPPED = "nik_birth_day_and_month_swapped"
    HOLDER_NOT_A_CHILD = "nik_holder_not_a_child"


@dataclass(frozen=True)
class ConsistencyWarning:
    """A flag stored on the record for a person to resolve; never a reason to reject it."""

    code: WarningCode
    field: str
    reason: str


def nik_consistency(nik: Nik, sex: Sex, birth_date: dt.date | None, precision: DatePrecision | None, *,
                    as_of: dt.date) -> list[ConsistencyWarning]:
    """Where the NIK disagrees with the recorded sex and birth date; as_of is when the child was recorded."""
    warnings: list[ConsistencyWarning] = []
    if sex is not Sex.UNKNOWN and sex is not nik.sex:
        warnings.append(ConsistencyWarning(WarningCode.SEX_DIFFERS, "sex", "the NIK encodes the other sex"))
    if not nik.holder_is_child_on(as_of):
        warnings.append(ConsistencyWarning(
            WarningCode.HOLDER_NOT_A_CHILD, "nik",
            "the NIK's birth date makes its holder 18 or older: perhaps a parent's NIK"))
    if birth_date is not None:
        warnings.extend(_birth_date_warnings(nik.birth_date(as_of), birth_date, precision or DatePrecision.DAY))
    return warnings


def _birth_date_warnings(encoded: dt.date, recorded: dt.date, precision: DatePrecision) -> list[ConsistencyWarning]:
    if _known_part(encoded, precision) == _known_part(recorded, precision):
        return []
    if precision is DatePrecision.DAY and (recorded.year, recorded.month, recorded.day) == (
            encoded.year, encoded.day, encoded.month):
        return [ConsistencyWarning(WarningCode.DAY_AND_MONTH_SWAPPED, "birth_date",
                                   "day and month are swapped relative to the NIK")]
    return [ConsistencyWarning(WarningCode.BIRTH_DATE_DIFFERS, "birth_date",
                               f"differs from the NIK's birth date at {precision} precision")]


def _known_part(date: dt.date, precision: DatePrecision) -> tuple[int, ...]:
    parts = (date.year, date.month, date.day)
    return parts[:{DatePrecision.YEAR: 1, DatePrecision.MONTH: 2, DatePrecision.DAY: 3}[precision]]


def _sixteen_digits(value: str, field: str) -> str:
    digits = value.strip()
    if not _DIGITS.fullmatch(digits):
        raise InvalidIdentityNumber(field, "must contain only digits")
    if len(digits) != LENGTH:
        raise InvalidIdentityNumber(field, f"must have {LENGTH} digits, has {len(digits)}")
    if _is_placeholder(digits):
        raise InvalidIdentityNumber(field, "is a placeholder (one repeated digit or a run of consecutive digits)")
    return digits


def _is_placeholder(digits: str) -> bool:
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(digits)}
    return steps in ({0}, {1}, {9})


def _region_code(digits: str, field: str) -> str:
    parts = (digits[0:2], digits[2:4], digits[4:6])
    if "00" in parts:
        raise InvalidIdentityNumber(field, "region digits contain 00, which no province, district or kecamatan has")
    return ".".join(parts)


def _check_known_region(region_code: str, field: str, known_region: RegionCheck | None) -> None:
    if known_region is not None and not known_region(region_code):
        raise InvalidIdentityNumber(field, "region digits are not a kecamatan of the region reference data")


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
