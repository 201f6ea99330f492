"""One source record of a child, parsed into the normalised fields that matching compares.

Parsing never fails: a value that cannot be used becomes empty and its field is named in `problems`, so a batch
can count warnings instead of stopping. A NIK encodes a birth date (day + 40 for girls) and the kecamatan of first
registration; it never changes, so what it encodes is evidence, not truth. When a record has no birth date or sex
of its own, the NIK's are used. A NIK whose encoded birth makes its holder an adult, or that is years away from the
record's own birth date, is most likely the mother's: it is kept but marked as not the child's own.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from identity.domain.names import ParsedName, parse_name

NIK_LENGTH = 16
FEMALE_DAY_OFFSET = 40
CHILD_AGE_LIMIT = 19  # years; the monitoring covers children up to 17, with slack for late records
NIK_YEAR_TOLERANCE = 3  # years between the NIK's birth year and the record's before the NIK is not the child's
VILLAGE_LENGTH = 10
_SEX = {
    "male": "male",
    "m": "male",
    "l": "male",
    "laki-laki": "male",
    "lk": "male",
    "female": "female",
    "f": "female",
    "p": "female",
    "perempuan": "female",
    "pr": "female",
}
_PRECISIONS = {"day": 3, "month": 2, "year": 1}
NO_NAME = ParsedName(())
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A birth date known to the year, month or day."""

    year: int
    month: int = 0
    day: int = 0


@dataclass(frozen=True, slots=True)
class NikFacts:
    """A NIK that is well formed, and what it encodes."""

    value: str
    birth: BirthDate
    sex: str

    @property
    def region(self) -> str:
        """The kecamatan of first registration (six digits)."""
        return self.value[:6]


@dataclass(frozen=True, slots=True)
class Record:
    """A source record reduced to what matching compares; empty fields are None or empty."""

    record_id: str
    source: str = ""
    name: ParsedName = NO_NAME
    sex: str | None = None
    birth: BirthDate | None = None
    nik: NikFacts | None = None
    nik_is_childs: bool = False
    kk: str | None = None
    mother: ParsedName = NO_NAME
    village: str | None = None
    problems: tuple[str, ...] = field(default=(), compare=False)

    @property
    def effective_birth(self) -> BirthDate | None:
        """The record's birth date, else the one its own NIK encodes."""
        if self.birth is not None:
            return self.birth
        return self.nik.birth if self.nik is not None and self.nik_is_childs else None

    @property
    def effective_sex(self) -> str | None:
        """The record's sex, else its own NIK's, else a name prefix's (Lalu, Baiq)."""
        if self.sex is not None:
            return self.sex
        if self.nik is not None and self.nik_is_childs:
            return self.nik.sex
        return self.name.sex_hint


def parse_record(raw: dict[str, str], *, as_of: dt.date | None = None) -> Record:
    """Parse the text fields of a CSV row (keys as in the batch input header)."""
    problems: list[str] = []

    def checked(column: str, value: object) -> None:
        if value is None and raw.get(column, "").strip():
            problems.append(column)

    sex = parse_sex(raw.get("sex", ""))
    checked("sex", sex)
    birth = parse_birth_date(raw.get("birth_date", ""), raw.get("birth_date_precision", ""))
    checked("birth_date", birth)
    nik = parse_nik(raw.get("nik", ""), as_of=as_of)
    checked("nik", nik)
    kk = _digits(raw.get("kk_number", ""), NIK_LENGTH)
    checked("kk_number", kk)
    village = _digits(raw.get("village_code", ""), VILLAGE_LENGTH)
    checked("village_code", village)
    childs = nik is not None and nik_is_childs(nik, birth, as_of=as_of)
    return Record(
        raw.get("record_id", "").strip(),
        raw.get("source", "").strip(),
        parse_name(raw.get("full_name", "")),
        sex,
        birth,
        nik,
        childs,
        kk,
        parse_name(raw.get("mother_name", "")),
        village,
        tuple(problems),
    )


def parse_sex(text: str) -> str | None:
    """`male` / `female` from the spellings sources use (L/P, M/F, laki-laki/perempuan)."""
    return _SEX.get(text.strip().lower())


def parse_birth_date(text: str, precision: str = "") -> BirthDate | None:
    """A YYYY-MM-DD, YYYY-MM or YYYY date cut to its stated precision; None when it is not a real date."""
    found = _DATE.fullmatch(text.strip())
    if found is None:
        return None
    year, month, day = (int(part) if part else 0 for part in found.groups())
    wanted = _PRECISIONS.get(precision.strip().lower(), 3)
    month, day = (month if wanted >= 2 else 0), (day if wanted >= 3 else 0)
    if day and not month:
        return None
    if not _real_date(year, month or 1, day or 1):
        return None
    return BirthDate(year, month, day)


def parse_nik(text: str, *, as_of: dt.date | None = None) -> NikFacts | None:
    """A well-formed NIK and what it encodes; None for anything else, placeholders included."""
    digits = _digits(text, NIK_LENGTH)
    if digits is None or len(set(digits)) <= 2 or digits[12:] == "0000" or not 11 <= int(digits[:2]) <= 94:
        return None
    day, month, two_digit_year = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    sex = "female" if day > FEMALE_DAY_OFFSET else "male"
    day -= FEMALE_DAY_OFFSET if day > FEMALE_DAY_OFFSET else 0
    today = as_of or dt.date.today()
    year = 2000 + two_digit_year if 2000 + two_digit_year <= today.year else 1900 + two_digit_year
    if not _real_date(year, month, day):
        return None
    return NikFacts(digits, BirthDate(year, month, day), sex)


def nik_is_childs(nik: NikFacts, birth: BirthDate | None, *, as_of: dt.date | None = None) -> bool:
    """Whether a NIK can be the record's own: its holder is a child, born near the record's birth year."""
    today = as_of or dt.date.today()
    if today.year - nik.birth.year > CHILD_AGE_LIMIT:
        return False
    return birth is None or abs(birth.year - nik.birth.year) <= NIK_YEAR_TOLERANCE


def _digits(text: str, length: int) -> str | None:
    digits = text.strip().replace(".", "").replace(" ", "")
    return digits if len(digits) == length and digits.isdigit() else None


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2100
