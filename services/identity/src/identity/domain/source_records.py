"""What identity knows of a source record and of the persons it may be: plain values, shared by the layers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from identity.domain.records import Record, parse_record


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


def as_record(key: RecordKey, details: Details) -> Record:
    """The matching engine's parsed record of a source record's details."""
    return parse_record({
        "record_id": str(key), "source": key.source_system, "full_name": details.full_name, "sex": details.sex,
        "birth_date": details.birth_date.isoformat() if details.birth_date else "",
        "birth_date_precision": details.birth_date_precision or "", "nik": details.nik or "",
        "kk_number": details.kk_number or "", "mother_name": details.mother_name or "",
        "village_code": details.village_code,
    })


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A source record as identity holds it: its person, whether a reviewer placed it there, and its details
    (None for a record identity knows only by a reviewer's decision, before its details arrived), and when the
    source recorded those details (None: before identity kept that time)."""

    key: RecordKey
    person_id: str
    village_code: str
    verified: bool = False
    details: Details | None = None
    linked_at: dt.datetime | None = None
    recorded_at: dt.datetime | None = None
    erased_at: dt.datetime | None = None  # the source erased the child's data: no details are kept, none taken

    def holds_newer_than(self, recorded_at: dt.datetime | None) -> bool:
        """Whether the details held were recorded after `recorded_at`: details recorded earlier (a replayed dead
        letter landing after newer events) must never overwrite them. Unknown times never refuse."""
        return self.recorded_at is not None and recorded_at is not None and recorded_at < self.recorded_at

    def erased(self, at: dt.datetime) -> SourceRecord:
        """The record with no details, erased at `at`: it keeps its person, so the counts stay right."""
        return replace(self, details=None, recorded_at=at, erased_at=at)

    def own_nik(self) -> str | None:
        """The child's own well-formed NIK (not a parent's written in its place), if the record has one."""
        if self.details is None or not self.details.nik:
            return None
        parsed = as_record(self.key, self.details)
        return parsed.nik.value if parsed.nik is not None and parsed.nik_is_childs else None

    def moved_to(self, person_id: str, at: dt.datetime, *, verified: bool | None = None) -> SourceRecord:
        """The record linked to another person (and marked placed by a reviewer or not, when given)."""
        return replace(self, person_id=person_id, linked_at=at,
                       verified=self.verified if verified is None else verified)


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
    certain: bool = False  # some pair with the person is certain (see `clustering.certain`)
    kept_apart: bool = False  # some pair with the person is vetoed or strongly against (certain or not)


@dataclass(frozen=True, slots=True)
class RecordMatch:
    """Another record a record may be the same child as: its person now, the pair's match probability, and whether
    a rule (siblings, two own NIKs) or strong evidence against forbids joining the two, and whether the pair is
    certain (one fitting NIK, or agreement on everything: see `clustering.certain`)."""

    key: RecordKey
    person_id: str
    score: float
    vetoed: bool
    certain: bool = False


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Match probabilities: at or above `auto_link` a link is made, at or above `review` a reviewer decides."""

    auto_link: float
    review: float
