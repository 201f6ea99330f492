"""What identity knows of a source record and of the persons it may be: plain values, shared by the layers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecordKey:
    """A source record: the source system and the record's id there."""

    source_system: str
    source_record_id: str

    def __str__(self) -> str:
        return f"{self.source_system}:{self.source_record_id}"

    @classmethod
    def parse(cls, text: str) -> RecordKey:
        """The key written by `str`."""
        system, _, record_id = text.partition(":")
        return cls(system, record_id)


@dataclass(frozen=True, slots=True)
class Details:
    """The identifying details of a source record, as its source sent them (restricted: never logged)."""

    full_name: str
    sex: str
    village_code: str
    birth_date: dt.date | None = None
    birth_date_precision: str | None = None
    nik: str | None = None
    kk_number: str | None = None
    mother_name: str | None = None

    def __repr__(self) -> str:  # tracebacks and logs never show the values
        return "Details(<restricted>)"


@dataclass(frozen=True, slots=True)
class Contribution:
    """One field's part in a score: the comparison level and its weight in bits (positive: evidence for)."""

    field: str
    level: str
    weight: float


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person a record may be: the best record pair's match probability, whether a rule (siblings, two own
    NIKs) forbids the link, and why it scored as it did."""

    person_id: str
    score: float
    vetoed: bool
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Match probabilities: at or above `auto_link` a link is made, at or above `review` a reviewer decides."""

    auto_link: float
    review: float
