"""The eligibility gate: may a referral of these service types, for a child of this district, go to this provider
on this day?

The rules, in the order they are checked; a refusal names the first that fails by its stable code (the problem+json
answer and the district queue show it), with the field at fault and the reason:
- `provider_active`: not suspended or offboarded;
- `provider_vetted`: the provider has a vetting;
- `vetting_score`: the current vetting scores 6 or more on that day (a document expired that day no longer counts);
- `agreement_in_force`: an agreement is in force on that day;
- `agreement_service_type`: one in force covers the service type;
- `agreement_district`: one in force covers both the service type and the child's district;
- `capacity_full`: a provider at full capacity takes a referral only on an explicit override by an officer, with a
  reason.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from referral.domain.errors import Conflict
from referral.domain.overrides import Override
from referral.domain.providers import Capacity, Provider, ProviderStatus
from referral.domain.vetting import ELIGIBLE_TOTAL


class Rule(enum.StrEnum):
    """The stable code of each rule of the gate."""

    PROVIDER_ACTIVE = "provider_active"
    PROVIDER_VETTED = "provider_vetted"
    VETTING_SCORE = "vetting_score"
    AGREEMENT_IN_FORCE = "agreement_in_force"
    AGREEMENT_SERVICE_TYPE = "agreement_service_type"
    AGREEMENT_DISTRICT = "agreement_district"
    CAPACITY_FULL = "capacity_full"


@dataclass(frozen=True)
class Refusal:
    """Which rule failed, the field at fault and why."""

    rule: Rule
    field: str
    reason: str


class Ineligible(Conflict):
    """The provider may not receive this referral: names the rule that failed (as `rule: reason`)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.field, f"{refusal.rule}: {refusal.reason}")
        self.rule = refusal.rule
        self.refusal = refusal


@dataclass(frozen=True)
class Placement:
    """What the gate is asked: these service types, for a child of this district, on this day."""

    service_types: Sequence[str]
    district: str
    on: dt.date
    capacity_override: Override | None = None


def refusal(provider: Provider, placement: Placement) -> Refusal | None:
    """The first rule the placement breaks, None when the provider may receive it."""
    return (_standing(provider, placement.on)
            or next(filter(None, (_agreement(provider, code, placement) for code in placement.service_types)), None)
            or _capacity(provider, placement))


def ensure_eligible(provider: Provider, placement: Placement) -> None:
    """Refuse (409, naming the rule) a placement the gate does not let through."""
    failed = refusal(provider, placement)
    if failed is not None:
        raise Ineligible(failed)


def _standing(provider: Provider, on: dt.date) -> Refusal | None:
    if provider.status is not ProviderStatus.ACTIVE:
        return Refusal(Rule.PROVIDER_ACTIVE, "provider_id", f"the provider is {provider.status}")
    vetting = provider.current_vetting
    if vetting is None:
        return Refusal(Rule.PROVIDER_VETTED, "provider_id", "the provider has not been vetted")
    total = vetting.score_on(on).total
    if total < ELIGIBLE_TOTAL:
        return Refusal(Rule.VETTING_SCORE, "provider_id",
                       f"the current vetting scores {total} on {on}, below {ELIGIBLE_TOTAL}")
    return None


def _agreement(provider: Provider, service_type: str, placement: Placement) -> Refusal | None:
    in_force = provider.agreements_in_force(placement.on)
    if not in_force:
        return Refusal(Rule.AGREEMENT_IN_FORCE, "provider_id", f"no agreement is in force on {placement.on}")
    covering = [agreement for agreement in in_force if agreement.covers_service(service_type)]
    if not covering:
        return Refusal(Rule.AGREEMENT_SERVICE_TYPE, "service_type",
                       f"no agreement in force covers {service_type}")
    if not any(agreement.covers_district(placement.district) for agreement in covering):
        return Refusal(Rule.AGREEMENT_DISTRICT, "district",
                       f"no agreement in force covers {service_type} in district {placement.district}")
    return None


def _capacity(provider: Provider, placement: Placement) -> Refusal | None:
    if provider.capacity is Capacity.FULL and placement.capacity_override is None:
        return Refusal(Rule.CAPACITY_FULL, "capacity_override",
                       "the provider is at full capacity: refer only with an officer's override and reason")
    return None
