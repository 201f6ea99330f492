"""The provider aggregate: registration, status transitions, capacity, vettings, re-scoring and agreements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from referral.domain import events as ev
from referral.domain.agreements import Agreement
from referral.domain.errors import Invalid, InvalidTransition
from referral.domain.providers import Capacity, Contact, Provider, ProviderStatus, ProviderType
from referral.domain.vetting import Recommendation, Vetting

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LICENCE_EXPIRES = dt.date(2026, 6, 1)


def test_registration_is_announced_and_starts_active_and_available() -> None:
    contact = Contact("Ibu Sari", "coordinator", phone="+62 812 0000 0000")
    provider = Provider.register(provider_id="p1", organisation="SMK Wuluhan", provider_type=ProviderType.SCHOOL,
                                 districts=frozenset({"35.09"}), contacts=(contact,),
                                 catalogue=frozenset({"child.vocational_training"}), by="officer", at=AT)
    assert (provider.status, provider.capacity, provider.contacts) == (ProviderStatus.ACTIVE, Capacity.AVAILABLE,
                                                                       (contact,))
    assert provider.events == [ev.ProviderRegistered(provider_id="p1", by="officer", at=AT,
                                                     organisation="SMK Wuluhan", provider_type="school",
                                                     districts=frozenset({"35.09"}))]


@pytest.mark.parametrize(("changes", "field"), [
    ({"organisation": " "}, "organisation"), ({"districts": frozenset()}, "districts"),
    ({"districts": frozenset({"35.09.11.2007"})}, "districts"), ({"catalogue": frozenset({"school"})}, "service_type"),
])
def test_an_incomplete_provider_is_refused(changes: dict[str, object], field: str) -> None:
    fields: dict[str, object] = {"provider_id": "p1", "organisation": "LPA", "provider_type": ProviderType.NGO,
                                 "districts": frozenset({"35.09"}), "by": "officer", "at": AT}
    with pytest.raises(Invalid) as refused:
        Provider.register(**(fields | changes))
    assert refused.value.field == field


def test_a_contact_needs_a_name_and_a_way_to_reach_them() -> None:
    with pytest.raises(Invalid, match="phone or an email"):
        Contact("Pak Budi")
    with pytest.raises(Invalid, match="name"):
        Contact(" ", email="budi@example.org")


def test_suspend_reinstate_offboard(provider: Provider) -> None:
    provider.suspend("audit pending", "officer", AT)
    provider.reinstate("officer", AT)
    provider.offboard("programme ended", "officer", AT)
    assert provider.status is ProviderStatus.OFFBOARDED
    assert [type(event) for event in provider.events] == [ev.ProviderSuspended, ev.ProviderReinstated,
                                                          ev.ProviderOffboarded]


def test_a_suspended_provider_may_be_offboarded(provider: Provider) -> None:
    provider.suspend("audit pending", "officer", AT)
    provider.offboard("audit failed", "officer", AT)
    assert provider.status is ProviderStatus.OFFBOARDED


def test_reinstating_an_active_provider_is_refused_naming_its_status(provider: Provider) -> None:
    with pytest.raises(InvalidTransition) as refused:
        provider.reinstate("officer", AT)
    assert refused.value.current == "active"


def test_suspending_twice_is_refused_naming_the_status(provider: Provider) -> None:
    provider.suspend("audit", "officer", AT)
    with pytest.raises(InvalidTransition) as refused:
        provider.suspend("again", "officer", AT)
    assert refused.value.current == "suspended"


def test_an_offboarded_provider_takes_no_change(provider: Provider, vetting: Callable[..., Vetting],
                                                agreement: Callable[..., Agreement]) -> None:
    provider.offboard("closed down", "officer", AT)
    changes: list[Callable[[], object]] = [
        lambda: provider.suspend("x", "officer", AT), lambda: provider.offboard("x", "officer", AT),
        lambda: provider.record_vetting(vetting(vetting_id="v2")),
        lambda: provider.record_agreement(agreement(), "officer", AT),
        lambda: provider.set_capacity(Capacity.FULL, "officer", AT)]
    for change in changes:
        with pytest.raises(InvalidTransition, match="offboarded"):
            change()


def test_suspension_and_offboarding_need_a_reason(provider: Provider) -> None:
    with pytest.raises(Invalid):
        provider.suspend(" ", "officer", AT)
    with pytest.raises(Invalid):
        provider.offboard("", "officer", AT)


def test_capacity_changes_are_announced_once(provider: Provider) -> None:
    provider.set_capacity(Capacity.LIMITED, "officer", AT)
    provider.set_capacity(Capacity.LIMITED, "officer", AT)
    assert provider.events == [ev.CapacityChanged(provider_id=provider.provider_id, by="officer", at=AT,
                                                  capacity="limited")]


def test_details_change_districts_contacts_and_catalogue(provider: Provider) -> None:
    provider.change_details(frozenset({"35.09", "52.03"}), (Contact("Ibu Sari", email="sari@lpa.or.id"),),
                            frozenset({"child.legal_aid"}), "officer", AT)
    assert (provider.districts, provider.catalogue) == (frozenset({"35.09", "52.03"}), frozenset({"child.legal_aid"}))
    assert isinstance(provider.events[-1], ev.ProviderDetailsChanged)


def test_a_vetting_is_announced_with_its_score_and_recommendation(provider: Provider,
                                                                  vetting: Callable[..., Vetting]) -> None:
    later = vetting(vetting_id="v2", child_orientation=2, vetted_at=AT)
    score = provider.record_vetting(later)
    assert provider.current_vetting is later
    assert provider.scored == score
    assert provider.events == [ev.ProviderVetted(provider_id=provider.provider_id, by="officer-jember", at=AT,
                                                 vetting_id="v2", total=9, recommendation=Recommendation.RECOMMENDED)]


def test_a_backdated_vetting_does_not_replace_the_current_one(provider: Provider,
                                                              vetting: Callable[..., Vetting]) -> None:
    current = provider.current_vetting
    provider.record_vetting(vetting(vetting_id="v0", track_record=0, vetted_at=AT - dt.timedelta(days=400)))
    assert provider.current_vetting is current
    assert provider.scored is not None
    assert provider.scored.total == 8


def test_rescoring_announces_a_change_once(provider: Provider) -> None:
    unchanged = provider.rescore(LICENCE_EXPIRES - dt.timedelta(days=1), "scheduler", AT)
    assert unchanged is not None
    assert not unchanged.changed
    assert provider.events == []
    changed = provider.rescore(LICENCE_EXPIRES, "scheduler", AT)
    again = provider.rescore(LICENCE_EXPIRES, "scheduler", AT)
    assert changed is not None
    assert changed.changed
    assert again is not None
    assert not again.changed
    assert provider.events == [ev.ProviderRescored(provider_id=provider.provider_id, by="scheduler", at=AT,
                                                   vetting_id="v1", on=LICENCE_EXPIRES, previous_total=8, total=7,
                                                   recommendation=Recommendation.MAY_BE_RECOMMENDED)]


def test_an_unvetted_provider_has_nothing_to_rescore() -> None:
    provider = Provider("p1", "LPA", ProviderType.NGO, frozenset({"35.09"}))
    assert provider.current_vetting is None
    assert provider.rescore(LICENCE_EXPIRES, "scheduler", AT) is None


def test_an_agreement_is_recorded_amended_and_announced(provider: Provider,
                                                        agreement: Callable[..., Agreement]) -> None:
    amended = agreement(ends_on=dt.date(2027, 6, 30))
    provider.record_agreement(amended, "officer", AT)
    assert provider.agreements == {"mou-1": amended}
    assert provider.agreements_in_force(dt.date(2027, 3, 1)) == [amended]
    event = provider.events[-1]
    assert isinstance(event, ev.AgreementChanged)
    assert (event.agreement_id, event.ends_on, event.kind) == ("mou-1", dt.date(2027, 6, 30), "mou")
