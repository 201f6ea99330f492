"""Events the registry publishes.

Three topics, two data classes:
- `registry.child-identity.v1` (restricted): a child's identifying details, for identity matching only.
- `registry.child-referral.v1` (restricted): the minimal details a provider needs to serve a referred child (name,
  sex, birth date, village, guardians' contact; never NIK, KK or mother's name), for referral only, published only
  while the guardian's consent for referral holds and withdrawn with it (ADR 0004).
- `registry.child.v1` (pseudonymous): what happens to a child and the child's case, for referral, reporting and
  authorised integrators. Every event on it carries the child's current pseudonymous state (child id, person id,
  sex, birth year, village, case, classification, status) and nothing identifying: no names, NIK, KK, mothers'
  names, exact birth dates, and no free text (notes and reasons can name people), only codes.

The code lists below mirror the registry's domain codes but belong to the contract: add members, never rename or
reuse a value.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from simpul_contracts.event import DataClass, Event
from simpul_contracts.events.common import ActorId, BirthYear, DatePrecision, Id, Sex, VillageCode

Digits16 = Annotated[str, StringConstraints(pattern=r"^\d{16}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]

HOURS_IN_A_WEEK = 168
LAST_SCHOOL_GRADE = 12


class ChildIdentityRecordedV1(Event):
    """A child's identifying details as the registry holds them now: for identity matching only (restricted)."""

    event_type: ClassVar[str] = "simpul.registry.child-identity-recorded.v1"
    topic: ClassVar[str] = "registry.child-identity.v1"
    source: ClassVar[str] = "simpul/registry"
    data_class: ClassVar[DataClass] = DataClass.RESTRICTED

    child_id: Id
    source_system: Id = Field(description="System the record came from; 'simpul-registry' for our own")
    source_record_id: Id
    full_name: Name
    sex: Sex
    birth_date: dt.date | None = None
    birth_date_precision: DatePrecision | None = None
    nik: Digits16 | None = None
    kk_number: Digits16 | None = None
    mother_name: Name | None = None
    village_code: VillageCode
    recorded_at: dt.datetime

    @property
    def key(self) -> str:
        """Keyed by child id."""
        return self.child_id


# --- registry.child-referral.v1 (restricted): the minimal details of a child referral may refer ------------------

CHILD_REFERRAL_TOPIC = "registry.child-referral.v1"
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 ()-]{4,23}$")]
Relationship = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class GuardianContact(BaseModel):
    """A guardian of the child, how they are related to it, and how to reach them (when the registry knows)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: Name
    relationship: Relationship
    phone: Phone | None = Field(default=None, description="The guardian's phone number; null when not recorded.")


class DetailsWithdrawalReason(enum.StrEnum):
    """Why the minimal details were withdrawn: `consent_withdrawn` (the guardian took back consent for referral)
    or `consent_refused` (a later decision in force refuses it, e.g. a paper form entered late)."""

    CONSENT_WITHDRAWN = "consent_withdrawn"
    CONSENT_REFUSED = "consent_refused"


class ChildReferralEvent(Event):
    """Base of the events on `registry.child-referral.v1` (restricted, for referral only): keyed by child id, so
    one child's details and withdrawals stay in order and compact together. Not an event type itself."""

    topic: ClassVar[str] = CHILD_REFERRAL_TOPIC
    source: ClassVar[str] = "simpul/registry"
    data_class: ClassVar[DataClass] = DataClass.RESTRICTED

    child_id: Id = Field(description="The child's registry id; the record key.")

    @property
    def key(self) -> str:
        """Keyed by child id."""
        return self.child_id


class ChildReferralDetailsRecordedV1(ChildReferralEvent):
    """The minimal details a provider needs to serve a child, while referral consent holds (restricted).

    For referral only. Published when the guardian's consent for referral is given and whenever these details
    change while it holds; the latest by `recorded_at` supersedes every earlier one, and a later withdrawal
    supersedes it."""

    event_type: ClassVar[str] = "simpul.registry.child-referral-details-recorded.v1"

    full_name: Name
    sex: Sex
    birth_date: dt.date | None = Field(default=None, description="For the child's age; null when unknown.")
    birth_date_precision: DatePrecision | None = None
    village_code: VillageCode
    guardians: tuple[GuardianContact, ...] = Field(default=(), max_length=6)
    consent_given_on: dt.date = Field(description="The day the guardian gave the consent for referral in force.")
    recorded_at: AwareDatetime = Field(
        description="When the registry recorded the change this event reflects: the order of this child's "
        "details and withdrawals (a consumer ignores anything older than what it holds).")


class ChildReferralDetailsWithdrawnV1(ChildReferralEvent):
    """Consent for referral no longer holds: forget the child's minimal details (restricted topic, no details).

    Supersedes every details event of the child recorded before `recorded_at`."""

    event_type: ClassVar[str] = "simpul.registry.child-referral-details-withdrawn.v1"

    reason: DetailsWithdrawalReason
    recorded_at: AwareDatetime = Field(description="When the registry recorded the decision that ended consent.")


# --- codes of the pseudonymous topic --------------------------------------------------------------------------


class Classification(enum.StrEnum):
    """Why the child has a case: `child_labourer` (doing work that endangers health, safety or morals, or hinders
    learning and development) or `at_risk` (at risk of becoming a child labourer)."""

    CHILD_LABOURER = "child_labourer"
    AT_RISK = "at_risk"


class ClassificationReason(enum.StrEnum):
    """Why a classification was recorded: `identified` (the child was identified and the case opened with this
    classification) or `reclassified` (an open case's classification was changed, e.g. after assessment or a
    monitoring visit). The person's own words stay in the registry."""

    IDENTIFIED = "identified"
    RECLASSIFIED = "reclassified"


class CaseStatus(enum.StrEnum):
    """Where a case stands: identified -> assessed -> remediation_in_progress -> monitoring -> closed; monitoring
    may return to remediation_in_progress, and a closed case reopens into monitoring or assessed."""

    IDENTIFIED = "identified"
    ASSESSED = "assessed"
    REMEDIATION_IN_PROGRESS = "remediation_in_progress"
    MONITORING = "monitoring"
    CLOSED = "closed"


class ClosureReason(enum.StrEnum):
    """Why a case was closed: `withdrawn` (a child labourer no longer works, by the programme's withdrawal rule),
    `protected` (an at-risk child was kept out of work), `moved` (the family left), `aged_out` (the child turned
    18)."""

    WITHDRAWN = "withdrawn"
    PROTECTED = "protected"
    MOVED = "moved"
    AGED_OUT = "aged_out"


class Hazard(enum.StrEnum):
    """Hazards of a child's work (ILO hazardous child labour in agriculture; Kepmenakertrans 235/2003):
    green_tobacco_sickness (handling wet green tobacco leaves), pesticides (mixing, spraying or entering a field
    soon after spraying), sharp_tools, heavy_loads, long_hours, night_work, extreme_heat, curing_barns (tobacco
    curing: heat, smoke, falls), work_at_height, machinery, dust_and_fumes, water_and_diving (fishing at sea,
    diving, boats and platforms), abuse (physical, psychological or sexual abuse at work), other (described in the
    visit's notes, which stay in the registry)."""

    GREEN_TOBACCO_SICKNESS = "green_tobacco_sickness"
    PESTICIDES = "pesticides"
    SHARP_TOOLS = "sharp_tools"
    HEAVY_LOADS = "heavy_loads"
    LONG_HOURS = "long_hours"
    NIGHT_WORK = "night_work"
    EXTREME_HEAT = "extreme_heat"
    CURING_BARNS = "curing_barns"
    WORK_AT_HEIGHT = "work_at_height"
    MACHINERY = "machinery"
    DUST_AND_FUMES = "dust_and_fumes"
    WATER_AND_DIVING = "water_and_diving"
    ABUSE = "abuse"
    OTHER = "other"


class WorkSector(enum.StrEnum):
    """Where the child works."""

    TOBACCO = "tobacco"
    OTHER_AGRICULTURE = "other_agriculture"
    DOMESTIC = "domestic"
    FISHING = "fishing"
    MANUFACTURING = "manufacturing"
    TRADE = "trade"
    OTHER = "other"


class SchoolStatus(enum.StrEnum):
    """The child's relation to school on the day of a visit."""

    ENROLLED = "enrolled"
    DROPPED_OUT = "dropped_out"
    NEVER_ENROLLED = "never_enrolled"


class ConsentPurpose(enum.StrEnum):
    """What a guardian is asked to allow: `data_sharing` (the child's data shared beyond those who need it for the
    case) or `referral` (the child referred to a service provider)."""

    DATA_SHARING = "data_sharing"
    REFERRAL = "referral"


class ConsentDecision(enum.StrEnum):
    """A guardian's answer: `given`, `refused`, or `withdrawn` (consent given earlier was taken back)."""

    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


# --- registry.child.v1 (pseudonymous) -------------------------------------------------------------------------


class ChildStateEvent(Event):
    """Base of the events on `registry.child.v1`: the child's pseudonymous state after the change, keyed by child
    id so one child's events stay in order. Not an event type itself."""

    topic: ClassVar[str] = "registry.child.v1"
    source: ClassVar[str] = "simpul/registry"
    data_class: ClassVar[DataClass] = DataClass.PSEUDONYMOUS

    child_id: Id = Field(description="Opaque, stable id of the child's registry record; the record key.")
    person_id: Id | None = Field(
        description="Opaque person id from the identity service (`identity.link.v1`); null until identity has "
        "linked the child. Several child records can share one person."
    )
    sex: Sex = Field(description="Sex as recorded.")
    birth_year: BirthYear | None = Field(description="Year of birth; null when no part of the birth date is known.")
    village_code: VillageCode = Field(description="Kemendagri code (PP.RR.SS.VVVV) of the child's village.")
    case_id: Id | None = Field(description="Opaque id of the child's case; null while the child has no case.")
    classification: Classification | None = Field(
        description="The child's current classification; null while the child has no case."
    )
    status: CaseStatus | None = Field(description="The case's current status; null while the child has no case.")

    @property
    def key(self) -> str:
        """Keyed by child id, so one child's events stay in order."""
        return self.child_id


class CaseStateEvent(ChildStateEvent):
    """Base of the events about a child's case: the case id, classification and status are always known."""

    case_id: Id = Field(description="Opaque id of the child's case.")
    classification: Classification = Field(description="The child's classification after this event.")
    status: CaseStatus = Field(description="The case's status after this event.")


class ChildRegisteredV1(ChildStateEvent):
    """A child was registered in the registry (pseudonymous: no identifying fields)."""

    event_type: ClassVar[str] = "simpul.registry.child-registered.v1"

    registered_at: AwareDatetime = Field(description="When the registry recorded the child.")


class ChildUpdatedV1(ChildStateEvent):
    """A registered child's pseudonymous details changed: sex, birth year, village or person id (pseudonymous).

    The event carries the whole state after the change. A correction of identifying details alone (a name, NIK)
    travels only on the restricted topic.
    """

    event_type: ClassVar[str] = "simpul.registry.child-updated.v1"

    updated_at: AwareDatetime = Field(description="When the registry recorded the change.")


class ChildClassifiedV1(CaseStateEvent):
    """A child was classified as a child labourer or at risk, when the case opened or later (pseudonymous)."""

    event_type: ClassVar[str] = "simpul.registry.child-classified.v1"

    previous: Classification | None = Field(
        description="The classification before this one; null when the case opened with this classification."
    )
    reason: ClassificationReason = Field(description="Why the classification was recorded, as a code.")
    classified_at: AwareDatetime = Field(description="When the classification took effect.")
    classified_by: ActorId


class CaseStatusChangedV1(CaseStateEvent):
    """A child's case moved to another status, or closed with a closure reason (pseudonymous)."""

    event_type: ClassVar[str] = "simpul.registry.case-status-changed.v1"

    previous: CaseStatus | None = Field(description="The status before this change; null when the case opened.")
    closure_reason: ClosureReason | None = Field(
        description="Why the case closed, when `status` is closed; otherwise null."
    )
    changed_at: AwareDatetime = Field(description="When the change took effect.")
    changed_by: ActorId


class ConsentChangedV1(ChildStateEvent):
    """A guardian's consent decision for one purpose was recorded (pseudonymous).

    Decisions are ranked by the day the guardian decided, not by arrival: an old paper form entered late does not
    undo a later decision, so the decision in force can differ from the one recorded.
    """

    event_type: ClassVar[str] = "simpul.registry.consent-changed.v1"

    purpose: ConsentPurpose = Field(description="What the decision is about.")
    decision: ConsentDecision = Field(description="The decision recorded by this event.")
    decided_on: dt.date = Field(description="The day the guardian decided (on or before `recorded_at`).")
    decision_in_force: ConsentDecision = Field(
        description="The decision in force for this purpose now: the latest by `decided_on`. Act on this one."
    )
    recorded_at: AwareDatetime = Field(description="When the registry recorded the decision.")
    recorded_by: ActorId


class MonitoringVisitRecordedV1(CaseStateEvent):
    """A monitoring visit to a child was recorded on the child's case (pseudonymous: codes only, no notes)."""

    event_type: ClassVar[str] = "simpul.registry.monitoring-visit-recorded.v1"

    visit_id: Id = Field(description="Opaque id of the visit; a visit is recorded once.")
    visited_on: dt.date = Field(description="The day of the visit.")
    visited_by: ActorId
    child_working: bool = Field(description="Whether the visitor found the child doing work counted as child labour.")
    sectors: tuple[WorkSector, ...] = Field(
        default=(), description="Where the child works; at least one when child_working, empty otherwise."
    )
    hazards: tuple[Hazard, ...] = Field(
        default=(), description="Hazards of the child's work; empty when none were found or the child does not work."
    )
    hours_per_week: int | None = Field(
        default=None, ge=1, le=HOURS_IN_A_WEEK,
        description="Hours the child works in a week, when the child works and the hours are known.",
    )
    school_status: SchoolStatus = Field(description="The child's relation to school on the day of the visit.")
    school_grade: int | None = Field(
        default=None, ge=1, le=LAST_SCHOOL_GRADE,
        description="Current grade (enrolled) or last grade attended (dropped out), 1-12 (SD 1-6, SMP 7-9, "
        "SMA/SMK 10-12; Paket A/B/C map onto the same grades); null when unknown or never enrolled.",
    )
    attends_school_regularly: bool | None = Field(
        default=None, description="For an enrolled child, whether the child attends regularly; null if not asked."
    )


class ErasureReason(enum.StrEnum):
    """Why a child's identifying data was erased: `data_subject_request` (the child or guardian asked, UU 27/2022
    art. 8), `recorded_in_error` (the child should never have been registered), `consent_withdrawn` (the basis of
    processing ended), `legal_order` (a court or authority ordered it), `retention_ended` (kept as long as allowed).
    The free-text reason stays in the registry's audit log."""

    DATA_SUBJECT_REQUEST = "data_subject_request"
    RECORDED_IN_ERROR = "recorded_in_error"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    LEGAL_ORDER = "legal_order"
    RETENTION_ENDED = "retention_ended"


class ChildErasedV1(ChildStateEvent):
    """The child's identifying data was erased from the registry: every service erases what it holds of the child
    that could identify it (names, numbers, birth dates, contacts, notes) and keeps only the pseudonymous state
    below, so counts stay right (pseudonymous). The restricted topics get a tombstone for the child in the same
    transaction. Nothing about the child changes after it: later events of the child do not come."""

    event_type: ClassVar[str] = "simpul.registry.child-erased.v1"

    source_system: Id = Field(description="System the child's record came from (as in ChildIdentityRecordedV1).")
    source_record_id: Id = Field(description="The record's id in that system: how identity finds its copy.")
    reason: ErasureReason = Field(description="Why the data was erased, as a code (never the officer's words).")
    erased_at: AwareDatetime = Field(description="When the registry erased the child's identifying data.")
