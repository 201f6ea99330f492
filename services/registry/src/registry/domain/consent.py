"""A guardian's consent, per purpose, and what it allows.

Every decision is kept. The one in force is the latest by the date the guardian decided, not by the order the
decisions reached us: field apps sync late, and an older paper form entered today must not undo a withdrawal.
Two decisions of the same day rank in the order they were recorded.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from registry.domain.attribution import require_aware, require_person, require_reason
from registry.domain.errors import RegistryConflict, RegistryError
from registry.domain.regions import CODE, Level, level_of


class ConsentPurpose(enum.StrEnum):
    """What the guardian is asked to allow."""

    DATA_SHARING = "data_sharing"
    REFERRAL = "referral"


class ConsentDecision(enum.StrEnum):
    """The guardian's answer."""

    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class ConsentRefused(RegistryConflict):
    """A consent decision that cannot be recorded."""


class ReferralNotConsented(RegistryError):
    """A referral with neither the guardian's consent nor an authorised override."""

    def __init__(self, decision: ConsentDecision | None) -> None:
        state = f"is {decision}" if decision else "was never asked"
        super().__init__("consent", f"referral consent {state} and no district officer's override is recorded")
        self.decision = decision


@dataclass(frozen=True)
class ConsentRecord:
    """One decision: what, for which purpose, on which day, and who recorded it when."""

    purpose: ConsentPurpose
    decision: ConsentDecision
    decided_on: dt.date
    recorded_by: str
    recorded_at: dt.datetime


@dataclass
class GuardianConsent:
    """All consent decisions of a child's guardian."""

    child_id: str
    records: list[ConsentRecord] = field(default_factory=list)

    def record(self, purpose: ConsentPurpose, decision: ConsentDecision, *, decided_on: dt.date,
               recorded_by: str, recorded_at: dt.datetime) -> ConsentRecord:
        """Record a decision; consent can be withdrawn only where it was given."""
        require_person(recorded_by, "recorded_by")
        require_aware(recorded_at, "recorded_at")
        if decided_on > recorded_at.date():
            raise ConsentRefused("decided_on", "is after the moment the decision was recorded")
        if decision is ConsentDecision.WITHDRAWN and self.decision(purpose, on=decided_on) is not ConsentDecision.GIVEN:
            raise ConsentRefused("decision", f"{purpose} consent was not given on that date, so cannot be withdrawn")
        record = ConsentRecord(purpose, decision, decided_on, recorded_by, recorded_at)
        self.records.append(record)
        return record

    def decision(self, purpose: ConsentPurpose, on: dt.date = dt.date.max) -> ConsentDecision | None:
        """The decision in force for the purpose on a day (by default the latest); None if never asked."""
        history = [record for record in self.history(purpose) if record.decided_on <= on]
        return history[-1].decision if history else None

    def history(self, purpose: ConsentPurpose) -> list[ConsentRecord]:
        """The purpose's decisions in the order they were made."""
        # sorted() is stable: decisions made on the same day stay in the order they were recorded.
        return sorted((record for record in self.records if record.purpose is purpose), key=_decided_on)

    def may_share(self) -> bool:
        """Whether the child's data may be shared beyond those who need it for the case."""
        return self.decision(ConsentPurpose.DATA_SHARING) is ConsentDecision.GIVEN

    def may_refer(self) -> bool:
        """Whether the child may be referred to a service provider on the guardian's consent."""
        return self.decision(ConsentPurpose.REFERRAL) is ConsentDecision.GIVEN


def _decided_on(record: ConsentRecord) -> dt.date:
    return record.decided_on


@dataclass(frozen=True)
class ConsentOverride:
    """A district officer's decision to refer without the guardian's consent, kept for audit.

    The handler checks that the officer is authorised for the district before building one; the domain makes
    sure the override says who, for which district, when and why.
    """

    officer_id: str
    district_code: str
    at: dt.datetime
    reason: str

    def __post_init__(self) -> None:
        require_person(self.officer_id, "officer_id")
        require_aware(self.at, "at")
        require_reason(self.reason)
        if not CODE.match(self.district_code) or level_of(self.district_code.split(".")) is not Level.KABUPATEN:
            raise ConsentRefused("district_code", "must be a kabupaten or kota code (PP.RR)")


class ReferralBasis(enum.StrEnum):
    """On what a referral rests."""

    GUARDIAN_CONSENT = "guardian_consent"
    OVERRIDE = "override"


@dataclass(frozen=True)
class ReferralClearance:
    """The basis recorded with a referral: the guardian's consent, or an override of the decision in force."""

    child_id: str
    basis: ReferralBasis
    consent: ConsentDecision | None
    override: ConsentOverride | None = None


def clear_referral(consent: GuardianConsent, override: ConsentOverride | None = None) -> ReferralClearance:
    """Allow a referral on referral consent, otherwise only on an authorised override; refuse it without either."""
    decision = consent.decision(ConsentPurpose.REFERRAL)
    if decision is ConsentDecision.GIVEN:
        return ReferralClearance(consent.child_id, ReferralBasis.GUARDIAN_CONSENT, decision)
    if override is None:
        raise ReferralNotConsented(decision)
    return ReferralClearance(consent.child_id, ReferralBasis.OVERRIDE, decision, override)
