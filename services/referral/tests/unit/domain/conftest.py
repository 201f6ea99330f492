"""Builders for the referral domain's unit tests: an eligible provider and referrals to it (pure Python, no I/O)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from referral.domain.agreements import Agreement, AgreementKind
from referral.domain.consent import RecordedConsent
from referral.domain.lifecycle import ReferralRequest
from referral.domain.providers import Provider, ProviderType
from referral.domain.referrals import Referral
from referral.domain.vetting import LegalDocument, LegalDocumentKind, Vetting, YearsWithChildren

WIB = dt.timezone(dt.timedelta(hours=7))
ISSUED_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=WIB)
JEMBER, LOMBOK_TIMUR = "35.09", "52.03"
SCHOOL, PSYCHOSOCIAL = "child.school_re_entry", "child.psychosocial_support"
OFFICER = "officer-jember"
LICENCE_EXPIRES = dt.date(2026, 6, 1)


def documents() -> tuple[LegalDocument, ...]:
    """All four documents, valid on ISSUED_AT; the operating licence expires on LICENCE_EXPIRES."""
    since = dt.date(2020, 1, 1)
    return (LegalDocument(LegalDocumentKind.DEED_OF_ESTABLISHMENT, "AHU-0012", since),
            LegalDocument(LegalDocumentKind.OPERATING_LICENCE, "IZ-77", since, LICENCE_EXPIRES),
            LegalDocument(LegalDocumentKind.NPWP, "01.234.567.8-626.000", since),
            LegalDocument(LegalDocumentKind.SKT, "SKT-9", since, dt.date(2027, 1, 1)))


@pytest.fixture
def vetting() -> Callable[..., Vetting]:
    """A vetting scoring 8 on ISSUED_AT (legality 4, track record 2, vision 1, orientation 1, under 5 years)."""
    def build(**changes: Any) -> Vetting:
        fields: dict[str, Any] = {"vetting_id": "v1", "documents": documents(), "track_record": 2,
                                  "vision_and_mission": 1, "child_orientation": 1,
                                  "years_with_children": YearsWithChildren.UNDER_5, "vetted_by": OFFICER,
                                  "vetted_at": ISSUED_AT - dt.timedelta(days=30)}
        return Vetting(**(fields | changes))
    return build


@pytest.fixture
def agreement() -> Callable[..., Agreement]:
    """An MoU for 2026 covering school re-entry and psychosocial support in Jember."""
    def build(**changes: Any) -> Agreement:
        fields: dict[str, Any] = {"agreement_id": "mou-1", "kind": AgreementKind.MOU,
                                  "document_reference": "MoU 12/2026", "starts_on": dt.date(2026, 1, 1),
                                  "ends_on": dt.date(2026, 12, 31), "service_types": frozenset({SCHOOL, PSYCHOSOCIAL}),
                                  "districts": frozenset({JEMBER})}
        return Agreement(**(fields | changes))
    return build


@pytest.fixture
def provider(vetting: Callable[..., Vetting], agreement: Callable[..., Agreement]) -> Provider:
    """An active provider, vetted (8) and under an MoU on ISSUED_AT; its events cleared."""
    built = Provider.register(provider_id="lpa-jember", organisation="LPA Jember", provider_type=ProviderType.NGO,
                              districts=frozenset({JEMBER}), by=OFFICER, at=ISSUED_AT - dt.timedelta(days=60))
    built.record_vetting(vetting())
    built.record_agreement(agreement(), OFFICER, ISSUED_AT - dt.timedelta(days=30))
    built.events.clear()
    return built


@pytest.fixture
def request_for() -> Callable[..., ReferralRequest]:
    """A request to refer child c1 (person p1, Jember) for school re-entry, on recorded consent."""
    def build(**changes: Any) -> ReferralRequest:
        fields: dict[str, Any] = {"referral_id": "r1", "child_id": "c1", "person_id": "p1", "district": JEMBER,
                                  "service_types": (SCHOOL,),
                                  "consent": RecordedConsent(ISSUED_AT - dt.timedelta(days=1))}
        return ReferralRequest(**(fields | changes))
    return build


@pytest.fixture
def issued(provider: Provider, request_for: Callable[..., ReferralRequest]) -> Referral:
    """Referral r1, issued on ISSUED_AT; its events cleared."""
    referral = Referral.issue(request_for(), provider, OFFICER, ISSUED_AT)
    referral.events.clear()
    return referral
