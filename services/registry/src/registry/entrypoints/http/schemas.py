"""HTTP request and response bodies (never the domain objects themselves)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from registry.domain.case_lifecycle import CaseStatus, Classification, ClosureReason
from registry.domain.consent import ConsentDecision, ConsentPurpose
from registry.domain.model import Sex
from registry.domain.visits import Hazard, SchoolStatus, WorkSector

# Free text may hold any character PostgreSQL can store: every one but NUL.
NO_NUL = r"^[^\x00]*$"
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_NUL)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000, pattern=NO_NUL)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000, pattern=NO_NUL)]
Relationship = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=NO_NUL)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()-]{4,23}$"),
                  Field(examples=["+62 812-3456-7890"])]
VillageCode = Annotated[str, StringConstraints(pattern=r"^\d{2}\.\d{2}\.\d{2}\.[12]\d{3}$")]
SourceId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Digits16 = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{16}$")]
Grade = Annotated[int, Field(ge=1, le=12)]
# A day's grace for the time zones between a field device and UTC, as for visits.
GRACE = dt.timedelta(days=1)
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)


def _took_effect(at: dt.datetime) -> dt.datetime:
    # A change dated in the future would refuse every later change until then; year 1 does not fit in UTC.
    if at > dt.datetime.now(dt.UTC) + GRACE:
        raise ValueError("is in the future")
    if at < EARLIEST:
        raise ValueError("is before 1900")
    return at


def _born(birth_date: dt.date) -> dt.date:
    # The events the registry publishes carry birth years from 1900.
    if birth_date > dt.datetime.now(dt.UTC).date() + GRACE:
        raise ValueError("is in the future")
    if birth_date < EARLIEST.date():
        raise ValueError("is before 1900")
    return birth_date


# The document states the earliest year (JSON Schema has no minimum for dates, but a pattern on the year); "not in
# the future" is relative to today, so only the description can say it.
FROM_1900 = r"^(19[0-9]{2}|[2-9][0-9]{3})-"
EffectiveTime = Annotated[AwareDatetime, AfterValidator(_took_effect), WithJsonSchema({
    "type": "string", "format": "date-time", "pattern": FROM_1900,
    "description": "With its UTC offset; from 1900, and not more than a day ahead of now"})]
BirthDate = Annotated[dt.date, AfterValidator(_born), WithJsonSchema({
    "type": "string", "format": "date", "pattern": FROM_1900,
    "description": "From 1900, and not more than a day ahead of today"})]


class BirthDatePrecision(enum.StrEnum):
    """How much of the birth date is known; `estimated` is a year worked out from the age the family gave."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    ESTIMATED = "estimated"


class Guardian(BaseModel):
    """A guardian of the child."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    relationship: Relationship = Field(examples=["mother", "father", "grandmother", "uncle"])
    phone: Phone | None = Field(default=None, description="How to reach the guardian; a provider serving a "
                                "referral sees it while the guardian's consent for referral holds.")


class School(BaseModel):
    """The child's schooling as registered."""

    model_config = ConfigDict(extra="forbid")

    status: SchoolStatus
    grade: Grade | None = None


class Work(BaseModel):
    """The child's work situation as registered."""

    model_config = ConfigDict(extra="forbid")

    sectors: list[WorkSector] = Field(default_factory=list, max_length=7)
    tasks: Text = ""
    hours_per_week: Annotated[int, Field(ge=0, le=168)] | None = None
    hazards: list[Hazard] = Field(default_factory=list, max_length=14)


class ClassificationIn(BaseModel):
    """A classification with the reason for it."""

    model_config = ConfigDict(extra="forbid")

    classification: Classification
    reason: Reason
    at: EffectiveTime | None = Field(default=None, description="When it took effect; now when omitted")


class ChildFields(BaseModel):
    """The child's details a cadre records; every field of an update is optional."""

    model_config = ConfigDict(extra="forbid")

    # Every child has a name, a sex and a village: an update may leave them out but not clear them with null.
    full_name: Name | SkipJsonSchema[None] = None
    aliases: list[Name] | None = Field(default=None, max_length=10, description="Nicknames and other spellings")
    sex: Sex | SkipJsonSchema[None] = None
    village_code: VillageCode | SkipJsonSchema[None] = Field(default=None, description="Kemendagri village code",
                                                             examples=["35.09.11.2007"])
    birth_date: BirthDate | None = None
    birth_date_precision: BirthDatePrecision | None = None
    mother_name: Name | None = None
    nik: Digits16 | None = Field(default=None, description="Stored encrypted; date/sex mismatches become warnings")
    kk_number: Digits16 | None = None
    guardians: list[Guardian] | None = Field(default=None, max_length=6)
    school: School | None = None
    work: Work | None = None

    @field_validator("full_name", "sex", "village_code")
    @classmethod
    def _not_cleared(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be cleared: every child has one")
        return value


class ChildCreate(ChildFields):
    """A child to register."""

    full_name: Name
    sex: Sex
    village_code: VillageCode = Field(description="Kemendagri village code", examples=["35.09.11.2007"])
    source_record_id: SourceId | None = Field(default=None, description="The id in the system it came from")
    classification: ClassificationIn | None = Field(default=None, description="Opens the child's case")


class ChildReplace(ChildFields):
    """A child's details, all of them (PUT)."""

    full_name: Name
    sex: Sex
    village_code: VillageCode


class CaseRead(BaseModel):
    """The child's case as it stands."""

    case_id: str
    status: CaseStatus
    classification: Classification
    closure_reason: ClosureReason | None
    withdrawal_rule: str = Field(description="Why the case may or may not close as withdrawn today")


class StatusChangeRead(BaseModel):
    """One move of the case: to which status, from which, who, when and why."""

    status: CaseStatus
    previous: CaseStatus | None
    closure_reason: ClosureReason | None
    by: str
    at: dt.datetime
    reason: str


class ClassificationChangeRead(BaseModel):
    """One classification of the case: which, the one before, who, when and why."""

    classification: Classification
    previous: Classification | None
    by: str
    at: dt.datetime
    reason: str


class CaseHistoryRead(BaseModel):
    """The case's whole history, oldest first."""

    case_id: str
    statuses: list[StatusChangeRead]
    classifications: list[ClassificationChangeRead]


class IdentityWarning(BaseModel):
    """Where the NIK disagrees with the record: for a person to resolve."""

    code: str
    field: str
    reason: str


class ChildRead(BaseModel):
    """A registered child as its district and village see it."""

    child_id: str
    version: int
    full_name: str
    aliases: list[str]
    sex: Sex
    village_code: str
    birth_date: dt.date | None
    birth_date_precision: BirthDatePrecision | None
    mother_name: str | None
    nik: str | None
    kk_number: str | None
    identity_warnings: list[IdentityWarning]
    guardians: list[Guardian]
    school: School | None
    work: Work | None
    source_system: str
    source_record_id: str
    person_id: str | None = Field(description="Identity's person id, once linked")
    registered_at: dt.datetime
    erased_at: dt.datetime | None = Field(
        default=None, description="When the child's identifying data was erased (then blank); the record is frozen")
    case: CaseRead | None


class ChildPage(BaseModel):
    """One page of a search; pass next_cursor as cursor for the next page."""

    items: list[ChildRead]
    next_cursor: str | None


class StatusChangeIn(BaseModel):
    """A move of the case along its lifecycle."""

    model_config = ConfigDict(extra="forbid")

    status: CaseStatus
    reason: Reason
    closure_reason: ClosureReason | None = None
    at: EffectiveTime | None = Field(default=None, description="When it took effect; now when omitted")


# The visit's rules between fields (domain/visits.py), stated so that a client can check a visit before sending it.
VISIT_RULES: JsonDict = {"allOf": [
    {"if": {"properties": {"child_working": {"const": True}}, "required": ["child_working"]},
     "then": {"required": ["sectors"], "properties": {
         "sectors": {"minItems": 1},
         "hours_per_week": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 168}, {"type": "null"}]}}},
     "else": {"properties": {"sectors": {"maxItems": 0}, "work_activities": {"pattern": r"^\s*$"},
                             "hours_per_week": {"type": "null"}, "hazards": {"maxItems": 0}}}},
    {"if": {"properties": {"hazards": {"contains": {"const": "other"}}}, "required": ["hazards"]},
     "then": {"required": ["notes"], "properties": {"notes": {"pattern": r"\S"}}}},
    {"if": {"properties": {"school_status": {"const": "never_enrolled"}}},
     "then": {"properties": {"school_grade": {"type": "null"}}}},
    {"if": {"properties": {"school_status": {"not": {"const": "enrolled"}}}},
     "then": {"properties": {"attends_school_regularly": {"type": "null"}}}},
]}


class VisitCreate(BaseModel):
    """What a cadre saw on a monitoring visit: a child found working works in at least one sector (1 to 168 hours
    a week when given); for a child not found working, no sectors, activities, hours or hazards; a hazard recorded
    as `other` is described in the notes; a child never enrolled has no grade, and only an enrolled child's regular
    attendance is recorded."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=VISIT_RULES)

    visited_on: dt.date
    child_working: bool
    school_status: SchoolStatus
    school_grade: Grade | None = None
    attends_school_regularly: bool | None = None
    sectors: list[WorkSector] = Field(default_factory=list, max_length=7)
    work_activities: Text = ""
    hours_per_week: int | None = None
    hazards: list[Hazard] = Field(default_factory=list, max_length=14)
    notes: Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)] = ""


class VisitRead(VisitCreate):
    """A recorded visit."""

    visit_id: str
    visitor: str


class ConsentCreate(BaseModel):
    """A guardian's decision."""

    model_config = ConfigDict(extra="forbid")

    purpose: ConsentPurpose
    decision: ConsentDecision
    decided_on: dt.date


class ConsentEntry(BaseModel):
    """One recorded decision."""

    purpose: ConsentPurpose
    decision: ConsentDecision
    decided_on: dt.date
    recorded_by: str
    recorded_at: dt.datetime


class ConsentRead(BaseModel):
    """The decisions in force per purpose and every decision recorded."""

    in_force: dict[ConsentPurpose, ConsentDecision | None]
    history: list[ConsentEntry]
