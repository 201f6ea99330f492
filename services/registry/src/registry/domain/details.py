"""A child's details as a cadre records them: guardians, schooling, work. Value objects with their invariants.

HTTP bodies and survey rows are checked at the edge and parsed into these; the invariants here hold whoever
builds them (a consumer, a test, a future importer).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, field, fields

from registry.domain.errors import RegistryError
from registry.domain.model import Sex
from registry.domain.visits import HOURS_IN_A_WEEK, LAST_SCHOOL_GRADE, Hazard, SchoolStatus, WorkSector

MAX_ALIASES = 10
MAX_GUARDIANS = 6
PHONE = re.compile(r"\+?[0-9][0-9 ()-]{4,23}")  # what the contracts' guardian phone admits
EARLIEST_BIRTH = dt.date(1900, 1, 1)  # the events the registry publishes carry birth years from 1900


class InvalidDetails(RegistryError):
    """A detail no child record can hold."""


class BirthPrecision(enum.StrEnum):
    """How much of the birth date is known; `estimated` is a year worked out from the age the family gave."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    ESTIMATED = "estimated"


def _require_text(value: str, name: str) -> None:
    if not value.strip():
        raise InvalidDetails(name, "must not be empty")


@dataclass(frozen=True)
class Guardian:
    """A guardian of the child, how they are related to it, and their phone number when known."""

    name: str
    relationship: str
    phone: str | None = None

    def __post_init__(self) -> None:
        _require_text(self.name, "guardians.name")
        _require_text(self.relationship, "guardians.relationship")
        if self.phone is not None and not PHONE.fullmatch(self.phone):
            raise InvalidDetails("guardians.phone", "must be a phone number: digits, spaces, '-', '()', a leading '+'")


@dataclass(frozen=True)
class School:
    """The child's schooling as registered: status, and the grade (current or last reached) when known."""

    status: SchoolStatus
    grade: int | None = None

    def __post_init__(self) -> None:
        if self.grade is not None and not 1 <= self.grade <= LAST_SCHOOL_GRADE:
            raise InvalidDetails("school.grade", f"must be from 1 to {LAST_SCHOOL_GRADE}")


@dataclass(frozen=True)
class Work:
    """The child's work as registered: sectors, tasks, hours and hazards."""

    sectors: tuple[WorkSector, ...] = ()
    tasks: str = ""
    hours_per_week: int | None = None
    hazards: tuple[Hazard, ...] = ()

    def __post_init__(self) -> None:
        if self.hours_per_week is not None and not 0 <= self.hours_per_week <= HOURS_IN_A_WEEK:
            raise InvalidDetails("work.hours_per_week", f"must be from 0 to {HOURS_IN_A_WEEK}")


@dataclass(frozen=True)
class ChildChanges:
    """Some of a child's details: the fields named in `given` change, to the value here (None clears)."""

    given: frozenset[str]
    full_name: str | None = None
    sex: Sex | None = None
    village_code: str | None = None
    aliases: tuple[str, ...] = ()
    birth_date: dt.date | None = None
    birth_date_precision: BirthPrecision | None = None
    mother_name: str | None = None
    nik: str | None = None
    kk_number: str | None = None
    guardians: tuple[Guardian, ...] = ()
    school: School | None = None
    work: Work | None = None

    def __post_init__(self) -> None:
        unknown = self.given - DETAIL_NAMES
        if unknown:
            raise InvalidDetails(sorted(unknown)[0], "is not a detail of a child")
        for name in ("full_name", "sex", "village_code"):
            if name in self.given and getattr(self, name) is None:
                raise InvalidDetails(name, "cannot be cleared: every child has one")
        if self.full_name is not None:
            _require_text(self.full_name, "full_name")
        if len(self.aliases) > MAX_ALIASES:
            raise InvalidDetails("aliases", f"at most {MAX_ALIASES}")
        if len(self.guardians) > MAX_GUARDIANS:
            raise InvalidDetails("guardians", f"at most {MAX_GUARDIANS}")
        if self.birth_date is not None and self.birth_date < EARLIEST_BIRTH:
            raise InvalidDetails("birth_date", "is before 1900")

    def changes(self, name: str) -> bool:
        """Whether the field is one to change."""
        return name in self.given


DETAIL_NAMES: frozenset[str] = frozenset(f.name for f in fields(ChildChanges) if f.name != "given")


@dataclass(frozen=True)
class ChildDetails(ChildChanges):
    """Every detail of a child (a registration, or a replacement of the record): name, sex and village required."""

    given: frozenset[str] = field(default_factory=lambda: DETAIL_NAMES)

    def __post_init__(self) -> None:
        for name in ("full_name", "sex", "village_code"):
            if getattr(self, name) is None:
                raise InvalidDetails(name, "is required")
        super().__post_init__()

    def required(self) -> tuple[str, Sex, str]:
        """Name, sex and village: what every child has."""
        full_name, sex, village_code = self.full_name, self.sex, self.village_code
        if full_name is None or sex is None or village_code is None:
            raise InvalidDetails("full_name", "is required")  # unreachable: checked when built
        return full_name, sex, village_code


