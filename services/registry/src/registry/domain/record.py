"""A child's record: the child with the details the registry keeps about it, and the record's version (ETag)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from registry.domain.case_lifecycle import CaseStatus
from registry.domain.details import BirthPrecision, ChildChanges, Guardian, School, Work
from registry.domain.identity_numbers import ConsistencyWarning
from registry.domain.model import Child, DatePrecision


@dataclass
class ChildRecord:
    """A child with the record's details the domain's Child does not carry, and the record's version (ETag)."""

    child: Child
    aliases: list[str] = field(default_factory=list)
    birth_date_estimated: bool = False
    nik: str | None = None
    nik_index: str | None = None
    kk_number: str | None = None
    identity_warnings: list[ConsistencyWarning] = field(default_factory=list)
    guardians: list[Guardian] = field(default_factory=list)
    school: School | None = None
    work: Work | None = None
    version: int = 1
    updated_at: dt.datetime | None = None
    source_digest: str | None = None  # the survey row it came from, when bulk imported
    erased_at: dt.datetime | None = None  # when its identifying data was erased (`domain.erasure`); then frozen

    @property
    def child_id(self) -> str:
        """The child's id."""
        return self.child.child_id

    @property
    def precision(self) -> BirthPrecision | None:
        """The birth date's precision as recorded, `estimated` included."""
        if self.birth_date_estimated:
            return BirthPrecision.ESTIMATED
        precision = self.child.birth_date_precision
        return BirthPrecision(precision.value) if precision else None

    def apply(self, changes: ChildChanges) -> None:
        """Take the changed details (the village is moved by the caller, which checks it first)."""
        child = self.child
        for name in ("full_name", "sex", "birth_date", "mother_name", "nik", "kk_number", "school", "work"):
            if changes.changes(name):
                target = child if hasattr(child, name) else self
                setattr(target, name, getattr(changes, name))
        for name in ("aliases", "guardians"):
            if changes.changes(name):
                setattr(self, name, list(getattr(changes, name)))
        if changes.changes("birth_date_precision"):
            precision = changes.birth_date_precision
            self.birth_date_estimated = precision is BirthPrecision.ESTIMATED
            # An age-based estimate knows the year at best.
            child.birth_date_precision = DatePrecision.YEAR if precision is BirthPrecision.ESTIMATED else (
                DatePrecision(precision.value) if precision else None)

    def identifying(self) -> dict[str, object]:
        """What identity matches on, to tell which changes it must hear about."""
        child = self.child
        return {"full_name": child.full_name, "sex": child.sex, "birth_date": child.birth_date,
                "birth_date_precision": (child.birth_date_precision, self.birth_date_estimated), "nik": self.nik,
                "kk_number": self.kk_number, "mother_name": child.mother_name, "village_code": child.village_code}


@dataclass(frozen=True)
class ChildSearch:
    """What a search asks for; scope is the caller's region codes."""

    scope: tuple[str, ...]
    name: str | None = None  # part of the full name or of an alias
    nik_index: str | None = None  # the blind index of a NIK: children with exactly that NIK
    village_code: str | None = None
    status: CaseStatus | None = None
    born_after: dt.date | None = None
    born_on_or_before: dt.date | None = None
    after: str | None = None
    limit: int = 20
