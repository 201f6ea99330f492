"""The directory's enums that cross the wire have the same members as their contract enums, and every provider
domain event has a wire event that keeps contacts and written reasons off the topic."""

from __future__ import annotations

import datetime as dt
import enum

import pytest

from referral.adapters import contract_mapping
from referral.domain import agreements, events, providers, vetting
from simpul_contracts.events.referral import providers as wire

PAIRS = [
    (providers.ProviderType, wire.ProviderType),
    (providers.Capacity, wire.ProviderCapacity),
    (vetting.Recommendation, wire.VettingRecommendation),
    (agreements.AgreementKind, wire.AgreementKind),
]
AT = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
WHO = {"provider_id": "prv_1", "by": "officer-jember", "at": AT}
EVENTS = [
    events.ProviderRegistered(**WHO, organisation="LPA Jember", provider_type="ngo", districts=frozenset({"35.09"})),
    events.ProviderDetailsChanged(**WHO, districts=frozenset({"52.03", "35.09"}),
                                  catalogue=frozenset({"child.school_re_entry"})),
    events.CapacityChanged(**WHO, capacity="full"),
    events.ProviderVetted(**WHO, vetting_id="vet_1", total=6, recommendation="may_be_recommended"),
    events.ProviderRescored(**WHO, vetting_id="vet_1", on=AT.date(), previous_total=9, total=8,
                            recommendation="may_be_recommended"),
    events.AgreementChanged(**WHO, agreement_id="agr_1", kind="pks", starts_on=AT.date(), ends_on=AT.date(),
                            service_types=frozenset({"child.health"}), districts=frozenset({"35.09"})),
    events.ProviderSuspended(**WHO, reason="Pak Budi reported abuse"),
    events.ProviderReinstated(**WHO),
    events.ProviderOffboarded(**WHO, reason="closed by Bu Ani"),
]


@pytest.mark.parametrize(("domain", "contract"), PAIRS, ids=[d.__name__ for d, _ in PAIRS])
def test_domain_and_wire_enums_have_the_same_values(domain: type[enum.Enum], contract: type[enum.Enum]) -> None:
    assert {m.value for m in domain} == {m.value for m in contract}


@pytest.mark.parametrize("event", EVENTS, ids=[type(e).__name__ for e in EVENTS])
def test_every_provider_event_maps_to_its_wire_event_without_written_reasons(event: events.ProviderEvent) -> None:
    published = contract_mapping.provider_event(event)
    assert type(published).__name__.startswith(type(event).__name__.replace("CapacityChanged", "ProviderCapacity")
                                               .replace("AgreementChanged", "ProviderAgreement"))
    assert (published.key, published.recorded_by, published.recorded_at) == ("prv_1", "officer-jember", AT)
    body = published.model_dump_json()
    assert "Pak Budi" not in body
    assert "Bu Ani" not in body
