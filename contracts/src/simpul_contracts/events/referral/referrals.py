"""Events the referral service publishes about referrals (pseudonymous: ids, codes and timestamps, never a child's
details or free text).

`referral.referral.v1`, keyed by referral id, so one referral's events stay in order: issued -> acknowledged ->
accepted | declined -> service started -> service recorded ... -> completed, or revoked / expired; overdue and
escalated when a response deadline passes; person changed when identity merges or unmerges the child's person.
A provider learns of a revocation (consent withdrawn, suspension, the district's decision) from `ReferralRevokedV1`.

The code lists mirror referral's domain codes but belong to the contract: add members, never rename or reuse a value.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, ClassVar

from pydantic import AwareDatetime, Field, StringConstraints

from simpul_contracts.event import DataClass, Event
from simpul_contracts.events.common import ActorId, Id

__all__ = [
    "Attendance",
    "DeadlineId",
    "DeadlineStep",
    "DeclineReason",
    "DistrictCode",
    "ReferralAcceptedV1",
    "ReferralAcknowledgedV1",
    "ReferralCompletedV1",
    "ReferralDeclinedV1",
    "ReferralEscalatedV1",
    "ReferralEvent",
    "ReferralExpiredV1",
    "ReferralIssuedV1",
    "ReferralOverdueV1",
    "ReferralPersonChangedV1",
    "ReferralRevokedV1",
    "ReferralServiceRecordedV1",
    "ReferralServiceStartedV1",
    "RevocationReason",
    "ServiceOutcome",
    "ServiceTypeCode",
]

DistrictCode = Annotated[
    str,
    StringConstraints(pattern=r"^\d{2}\.\d{2}$"),
    Field(description="Kemendagri district (kabupaten/kota) code PP.RR", examples=["35.09"]),
]
DeadlineId = Annotated[
    str,
    StringConstraints(max_length=80, pattern=r"^[A-Za-z0-9._:-]{1,64}/(acknowledge|answer|escalation|expiry)$"),
    Field(description="A deadline's stable id, `<referral id>/<kind>`; it fires once",
          examples=["ref_1/acknowledge"]),
]
ServiceTypeCode = Annotated[
    str,
    StringConstraints(pattern=r"^(child|household|community)\.[a-z][a-z0-9_]{1,58}$"),
    Field(description="A code of referral's versioned service-type list, `<level>.<type>`",
          examples=["child.school_re_entry"]),
]


class DeclineReason(enum.StrEnum):
    """Why a provider declined: `no_capacity` (no place now), `service_not_offered` (it does not give the service
    asked for), `unreachable` (the child or family could not be reached), `family_refused` (the family refused the
    service), `not_eligible` (the child does not meet the provider's criteria), `other` (told to the district, not
    on the wire)."""

    NO_CAPACITY = "no_capacity"
    SERVICE_NOT_OFFERED = "service_not_offered"
    UNREACHABLE = "unreachable"
    FAMILY_REFUSED = "family_refused"
    NOT_ELIGIBLE = "not_eligible"
    OTHER = "other"


class RevocationReason(enum.StrEnum):
    """Why a referral was taken back from its provider: `consent_withdrawn` (the guardian withdrew consent for
    referral), `provider_suspended`, `provider_offboarded` (the referral returns to the district queue),
    `case_closed` (the registry closed the child's case and the district revokes on closure), `district_decision`
    (a district officer's decision, including the erasure of the child from the registry, which only a district
    officer may order; the officer's note stays in referral, an erasure's reason in the audit log)."""

    CONSENT_WITHDRAWN = "consent_withdrawn"
    PROVIDER_SUSPENDED = "provider_suspended"
    PROVIDER_OFFBOARDED = "provider_offboarded"
    CASE_CLOSED = "case_closed"
    DISTRICT_DECISION = "district_decision"


class Attendance(enum.StrEnum):
    """Whether the child came to a service session: `attended`, `did_not_attend`, `rescheduled` (moved to another
    day by the provider or the family)."""

    ATTENDED = "attended"
    DID_NOT_ATTEND = "did_not_attend"
    RESCHEDULED = "rescheduled"


class ServiceOutcome(enum.StrEnum):
    """Where a service stands after a session the child attended: `in_progress` (it continues), `achieved` (its
    aim is met: back in school, the birth certificate issued, enrolled in PKH/KIP), `partially_achieved`,
    `not_achieved` (it ended without its aim), `referred_on` (the child needs another provider's service)."""

    IN_PROGRESS = "in_progress"
    ACHIEVED = "achieved"
    PARTIALLY_ACHIEVED = "partially_achieved"
    NOT_ACHIEVED = "not_achieved"
    REFERRED_ON = "referred_on"


class DeadlineStep(enum.StrEnum):
    """Which answer is overdue: `acknowledge` (the provider has not acknowledged) or `answer` (it has not accepted
    or declined)."""

    ACKNOWLEDGE = "acknowledge"
    ANSWER = "answer"


class ReferralEvent(Event):
    """Base of the events on `referral.referral.v1`: which referral, to which provider, who acted and when. Not an
    event type itself."""

    topic: ClassVar[str] = "referral.referral.v1"
    source: ClassVar[str] = "simpul/referral"
    data_class: ClassVar[DataClass] = DataClass.PSEUDONYMOUS

    referral_id: Id = Field(description="Opaque, stable id of the referral; the record key.")
    provider_id: Id = Field(description="The provider the referral is addressed to.")
    by: ActorId = Field(description="Who acted: a token subject, or `system` when a rule did (a deadline, a "
                                    "consent withdrawal, a suspension).")
    at: AwareDatetime = Field(description="When it happened.")

    @property
    def key(self) -> str:
        """Keyed by referral id, so one referral's events stay in order."""
        return self.referral_id


class ReferralIssuedV1(ReferralEvent):
    """A child was referred to a provider, on the guardian's recorded consent or on an officer's override."""

    event_type: ClassVar[str] = "simpul.referral.referral-issued.v1"

    child_id: Id = Field(description="The registry's child id (`registry.child.v1`).")
    person_id: Id = Field(description="The identity service's person id of the child.")
    district: DistrictCode
    service_types: tuple[ServiceTypeCode, ...] = Field(min_length=1, description="The services asked for.")
    consent_overridden: bool = Field(description="True when an officer referred without recorded consent "
                                                 "(the override is audited in referral).")
    previous_referral_id: Id | None = Field(description="The declined, expired or revoked referral this one "
                                                        "follows; null for a first referral.")


class ReferralAcknowledgedV1(ReferralEvent):
    """The provider saw the referral."""

    event_type: ClassVar[str] = "simpul.referral.referral-acknowledged.v1"


class ReferralAcceptedV1(ReferralEvent):
    """The provider will serve the child."""

    event_type: ClassVar[str] = "simpul.referral.referral-accepted.v1"


class ReferralDeclinedV1(ReferralEvent):
    """The provider will not serve the child; the referral goes to the district queue."""

    event_type: ClassVar[str] = "simpul.referral.referral-declined.v1"

    reason: DeclineReason = Field(description="Why, as a code.")


class ReferralServiceStartedV1(ReferralEvent):
    """The provider began serving the child."""

    event_type: ClassVar[str] = "simpul.referral.referral-service-started.v1"


class ReferralServiceRecordedV1(ReferralEvent):
    """A service of the referral was delivered to the child (notes stay in referral)."""

    event_type: ClassVar[str] = "simpul.referral.referral-service-recorded.v1"

    service_type: ServiceTypeCode
    delivered_on: dt.date = Field(description="The day the service was delivered.")
    record_id: Id | None = Field(default=None, description="The service record's id (absent on records kept "
                                                           "before records had ids).")
    attendance: Attendance | None = Field(default=None, description="Whether the child attended, as a code "
                                                                    "(absent: attended).")
    outcome: ServiceOutcome | None = Field(default=None, description="Where the service stands after it, as a "
                                                                     "code (only when the child attended).")


class ReferralCompletedV1(ReferralEvent):
    """The loop is closed: the services were delivered (at least one service recorded)."""

    event_type: ClassVar[str] = "simpul.referral.referral-completed.v1"


class ReferralRevokedV1(ReferralEvent):
    """The referral was taken back from the provider: the provider stops, the district may refer again."""

    event_type: ClassVar[str] = "simpul.referral.referral-revoked.v1"

    reason: RevocationReason = Field(description="Why, as a code.")


class ReferralExpiredV1(ReferralEvent):
    """No answer came before the expiry deadline."""

    event_type: ClassVar[str] = "simpul.referral.referral-expired.v1"


class ReferralOverdueV1(ReferralEvent):
    """A response deadline passed without the answer it asked for."""

    event_type: ClassVar[str] = "simpul.referral.referral-overdue.v1"

    deadline_id: DeadlineId
    step: DeadlineStep
    due_at: AwareDatetime = Field(description="When the answer was due.")


class ReferralEscalatedV1(ReferralEvent):
    """The unanswered referral went to the district queue."""

    event_type: ClassVar[str] = "simpul.referral.referral-escalated.v1"

    deadline_id: DeadlineId
    due_at: AwareDatetime = Field(description="When the answer was due.")


class ReferralPersonChangedV1(ReferralEvent):
    """Identity merged or unmerged the child's person: the referral now names another person id."""

    event_type: ClassVar[str] = "simpul.referral.referral-person-changed.v1"

    previous_person_id: Id
    person_id: Id
    merge_id: Id = Field(description="The identity merge that moved the referral (or whose undoing moved it "
                                     "back).")
