"""The eligibility gate: each refusal names the rule that failed; a full provider needs an explicit override."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from referral.domain.agreements import Agreement
from referral.domain.eligibility import Ineligible, Placement, Rule, ensure_eligible, refusal
from referral.domain.errors import Invalid
from referral.domain.overrides import Override
from referral.domain.providers import Capacity, Provider, ProviderType
from referral.domain.vetting import Vetting
from simpul_platform.errors import ErrorKind

DAY = dt.date(2026, 3, 2)
AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SCHOOL = "child.school_re_entry"


def placement(service_type: str = SCHOOL, district: str = "35.09", on: dt.date = DAY,
              override: Override | None = None) -> Placement:
    return Placement((service_type,), district, on, override)


def rule_failed(provider: Provider, asked: Placement) -> Rule | None:
    failed = refusal(provider, asked)
    return None if failed is None else failed.rule


def test_a_vetted_active_provider_under_agreement_is_eligible(provider: Provider) -> None:
    assert refusal(provider, placement()) is None
    ensure_eligible(provider, placement())


def test_an_unvetted_provider_is_refused() -> None:
    unvetted = Provider("p2", "LPA", ProviderType.NGO, frozenset({"35.09"}))
    assert rule_failed(unvetted, placement()) is Rule.PROVIDER_VETTED


def test_a_provider_scored_5_is_refused_and_6_passes(provider: Provider, vetting: Callable[..., Vetting]) -> None:
    provider.record_vetting(vetting(vetting_id="v5", documents=vetting().documents[:2], track_record=1,
                                    vetted_at=AT - dt.timedelta(days=1)))
    with pytest.raises(Ineligible) as refused:
        ensure_eligible(provider, placement())
    assert (refused.value.rule, refused.value.kind, refused.value.field) == (Rule.VETTING_SCORE, ErrorKind.CONFLICT,
                                                                             "provider_id")
    assert refused.value.reason.startswith("vetting_score: the current vetting scores 5")
    provider.record_vetting(vetting(vetting_id="v6", documents=vetting().documents[:3], track_record=1, vetted_at=AT))
    assert refusal(provider, placement()) is None


def test_a_provider_whose_document_expired_that_day_can_fall_below_6(provider: Provider,
                                                                     vetting: Callable[..., Vetting]) -> None:
    provider.record_vetting(vetting(vetting_id="v6", track_record=0, vetted_at=AT))  # 6, 5 from 1 June
    assert rule_failed(provider, placement(on=dt.date(2026, 5, 31))) is None
    assert rule_failed(provider, placement(on=dt.date(2026, 6, 1))) is Rule.VETTING_SCORE


@pytest.mark.parametrize(("service_type", "district", "rule", "field"), [
    ("child.legal_aid", "35.09", Rule.AGREEMENT_SERVICE_TYPE, "service_type"),
    (SCHOOL, "52.03", Rule.AGREEMENT_DISTRICT, "district"),
])
def test_a_provider_out_of_its_agreements_service_types_or_districts_is_refused(
        provider: Provider, service_type: str, district: str, rule: Rule, field: str) -> None:
    failed = refusal(provider, placement(service_type, district))
    assert failed is not None
    assert (failed.rule, failed.field) == (rule, field)


def test_every_service_of_a_referral_must_be_covered(provider: Provider) -> None:
    both = Placement((SCHOOL, "child.legal_aid"), "35.09", DAY)
    assert rule_failed(provider, both) is Rule.AGREEMENT_SERVICE_TYPE


def test_service_type_and_district_must_be_covered_by_the_same_agreement(
        provider: Provider, agreement: Callable[..., Agreement]) -> None:
    provider.record_agreement(agreement(agreement_id="pks-lotim", service_types=frozenset({"child.legal_aid"}),
                                        districts=frozenset({"52.03"})), "officer", AT)
    assert rule_failed(provider, placement(district="52.03")) is Rule.AGREEMENT_DISTRICT
    assert rule_failed(provider, placement("child.legal_aid", "52.03")) is None


@pytest.mark.parametrize("on", [dt.date(2025, 12, 31), dt.date(2027, 1, 1)])
def test_a_provider_whose_agreement_is_not_in_force_is_refused(provider: Provider, on: dt.date) -> None:
    assert rule_failed(provider, placement(on=on)) is Rule.AGREEMENT_IN_FORCE


def test_an_agreement_is_still_in_force_on_its_last_day(provider: Provider) -> None:
    assert rule_failed(provider, placement(on=dt.date(2026, 12, 31))) is None


@pytest.mark.parametrize("move", ["suspend", "offboard"])
def test_a_suspended_or_offboarded_provider_is_refused(provider: Provider, move: str) -> None:
    getattr(provider, move)("audit failed", "officer", AT)
    failed = refusal(provider, placement())
    assert failed is not None
    assert failed.rule is Rule.PROVIDER_ACTIVE
    assert failed.reason == f"the provider is {provider.status}"


def test_a_full_provider_needs_an_explicit_override(provider: Provider) -> None:
    provider.set_capacity(Capacity.FULL, "officer", AT)
    assert rule_failed(provider, placement()) is Rule.CAPACITY_FULL
    assert rule_failed(provider, placement(override=Override("officer-jember", "only provider nearby"))) is None


def test_a_limited_provider_takes_referrals(provider: Provider) -> None:
    provider.set_capacity(Capacity.LIMITED, "officer", AT)
    assert refusal(provider, placement()) is None


@pytest.mark.parametrize(("by", "reason"), [("", "only provider"), ("officer", " ")])
def test_an_override_names_the_officer_and_a_reason(by: str, reason: str) -> None:
    with pytest.raises(Invalid):
        Override(by, reason)


def test_the_rule_codes_are_stable() -> None:
    assert [rule.value for rule in Rule] == ["provider_active", "provider_vetted", "vetting_score",
                                             "agreement_in_force", "agreement_service_type", "agreement_district",
                                             "capacity_full"]
