"""The provider directory: organisations that may receive referrals, their capacity, vettings and agreements.

Status: active -> suspended -> active (reinstated); active or suspended -> offboarded, for good. An offboarded
provider keeps its record (referrals name it) but takes no vetting, agreement or change. The current vetting is the
latest one recorded; `scored` is its score as last published, so re-scoring publishes only a change.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from referral.domain.agreements import Agreement, require_districts
from referral.domain.errors import InvalidTransition, require, require_aware
from referral.domain.events import (
    AgreementChanged,
    CapacityChanged,
    ProviderDetailsChanged,
    ProviderEvent,
    ProviderOffboarded,
    ProviderRegistered,
    ProviderReinstated,
    ProviderRescored,
    ProviderSuspended,
    ProviderVetted,
)
from referral.domain.service_types import level_of
from referral.domain.vetting import Rescoring, Score, Vetting, rescore


class ProviderType(enum.StrEnum):
    """What kind of organisation serves the child."""

    SCHOOL = "school"
    VOCATIONAL_CENTRE = "vocational_centre"
    PUSKESMAS = "puskesmas"
    SOCIAL_SERVICE = "social_service"
    NGO = "ngo"
    OTHER = "other"


class Capacity(enum.StrEnum):
    """Whether the provider can take more children, as district officers see it."""

    AVAILABLE = "available"
    LIMITED = "limited"
    FULL = "full"


class ProviderStatus(enum.StrEnum):
    """Whether the provider may receive referrals."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    OFFBOARDED = "offboarded"


@dataclass(frozen=True)
class Contact:
    """A person at the provider to reach about referrals."""

    name: str
    role: str = ""
    phone: str = ""
    email: str = ""

    def __post_init__(self) -> None:
        require(bool(self.name.strip()), "contacts.name", "a contact needs a name")
        require(bool(self.phone.strip() or self.email.strip()), "contacts", "a contact needs a phone or an email")


def _require_catalogue(catalogue: frozenset[str]) -> None:
    for code in catalogue:
        level_of(code)


@dataclass
class Provider:
    """A service provider of the directory (the aggregate: vettings and agreements change only through it)."""

    provider_id: str
    organisation: str
    provider_type: ProviderType
    districts: frozenset[str]
    contacts: tuple[Contact, ...] = ()
    catalogue: frozenset[str] = frozenset()
    capacity: Capacity = Capacity.AVAILABLE
    status: ProviderStatus = ProviderStatus.ACTIVE
    vettings: list[Vetting] = field(default_factory=list)
    scored: Score | None = None
    agreements: dict[str, Agreement] = field(default_factory=dict)
    events: list[ProviderEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        require(bool(self.organisation.strip()), "organisation", "a provider needs its organisation's name")
        require_districts(self.districts, "districts")
        _require_catalogue(self.catalogue)

    @classmethod
    def register(cls, *, provider_id: str, organisation: str, provider_type: ProviderType, districts: frozenset[str],
                 contacts: tuple[Contact, ...] = (), catalogue: frozenset[str] = frozenset(), by: str,
                 at: dt.datetime) -> Provider:
        """A new, active provider in the directory, announced."""
        require_aware(at, "at")
        provider = cls(provider_id, organisation, provider_type, districts, contacts, catalogue)
        provider.events.append(ProviderRegistered(provider_id=provider_id, by=by, at=at, organisation=organisation,
                                                  provider_type=provider_type, districts=districts))
        return provider

    @property
    def current_vetting(self) -> Vetting | None:
        """The latest vetting, None while the provider was never vetted."""
        return max(self.vettings, key=lambda vetting: vetting.vetted_at, default=None)

    def agreements_in_force(self, day: dt.date) -> list[Agreement]:
        """The agreements in force on `day`."""
        return [agreement for agreement in self.agreements.values() if agreement.in_force_on(day)]

    def change_details(self, districts: frozenset[str], contacts: tuple[Contact, ...], catalogue: frozenset[str],
                       by: str, at: dt.datetime) -> None:
        """Replace the districts covered, the contacts and the service catalogue."""
        self._require_listed("change")
        require_districts(districts, "districts")
        _require_catalogue(catalogue)
        self.districts, self.contacts, self.catalogue = districts, contacts, catalogue
        self.events.append(ProviderDetailsChanged(provider_id=self.provider_id, by=by, at=at, districts=districts,
                                                  catalogue=catalogue))

    def set_capacity(self, capacity: Capacity, by: str, at: dt.datetime) -> None:
        """Record the capacity status (no event when it stays the same)."""
        self._require_listed("change capacity")
        if capacity is not self.capacity:
            self.capacity = capacity
            self.events.append(CapacityChanged(provider_id=self.provider_id, by=by, at=at, capacity=capacity))

    def record_vetting(self, vetting: Vetting) -> Score:
        """Add a vetting, which becomes current when it is the latest; returns its score on the day it was made."""
        self._require_listed("be vetted")
        self.vettings.append(vetting)
        score = vetting.score_on(vetting.vetted_at.date())
        if self.current_vetting is vetting:
            self.scored = score
        self.events.append(ProviderVetted(provider_id=self.provider_id, by=vetting.vetted_by, at=vetting.vetted_at,
                                          vetting_id=vetting.vetting_id, total=score.total,
                                          recommendation=score.recommendation))
        return score

    def rescore(self, on: dt.date, by: str, at: dt.datetime) -> Rescoring | None:
        """Re-score the current vetting as of `on`; a changed score is kept and announced. None if never vetted."""
        vetting = self.current_vetting
        if vetting is None or self.scored is None:
            return None
        rescoring = rescore(vetting, self.scored, on)
        if rescoring.changed:
            self.scored = rescoring.score
            self.events.append(ProviderRescored(provider_id=self.provider_id, by=by, at=at,
                                                vetting_id=vetting.vetting_id, on=on,
                                                previous_total=rescoring.previous.total, total=rescoring.score.total,
                                                recommendation=rescoring.score.recommendation))
        return rescoring

    def record_agreement(self, agreement: Agreement, by: str, at: dt.datetime) -> None:
        """Add an agreement, or amend the one with the same id."""
        self._require_listed("sign agreements")
        self.agreements[agreement.agreement_id] = agreement
        self.events.append(AgreementChanged(provider_id=self.provider_id, by=by, at=at,
                                            agreement_id=agreement.agreement_id, kind=agreement.kind,
                                            starts_on=agreement.starts_on, ends_on=agreement.ends_on,
                                            service_types=agreement.service_types, districts=agreement.districts))

    def suspend(self, reason: str, by: str, at: dt.datetime) -> None:
        """Stop referrals to the provider until it is reinstated."""
        self._move(ProviderStatus.ACTIVE, "suspend", reason)
        self.status = ProviderStatus.SUSPENDED
        self.events.append(ProviderSuspended(provider_id=self.provider_id, by=by, at=at, reason=reason))

    def reinstate(self, by: str, at: dt.datetime) -> None:
        """Let a suspended provider receive referrals again."""
        self._move(ProviderStatus.SUSPENDED, "reinstate", "reinstated")
        self.status = ProviderStatus.ACTIVE
        self.events.append(ProviderReinstated(provider_id=self.provider_id, by=by, at=at))

    def offboard(self, reason: str, by: str, at: dt.datetime) -> None:
        """Take the provider out of the directory for good."""
        self._require_listed("offboard")
        require(bool(reason.strip()), "reason", "say why")
        self.status = ProviderStatus.OFFBOARDED
        self.events.append(ProviderOffboarded(provider_id=self.provider_id, by=by, at=at, reason=reason))

    def _move(self, expected: ProviderStatus, move: str, reason: str) -> None:
        if self.status is not expected:
            raise InvalidTransition("status", self.status, move)
        require(bool(reason.strip()), "reason", "say why")

    def _require_listed(self, move: str) -> None:
        if self.status is ProviderStatus.OFFBOARDED:
            raise InvalidTransition("status", self.status, move)
