"""Guardian consent per purpose: the latest decision wins; a referral needs consent or an authorised override."""

from __future__ import annotations

import datetime as dt

import pytest

from registry.domain.attribution import MissingAttribution
from registry.domain.consent import (
    ConsentDecision,
    ConsentOverride,
    ConsentPurpose,
    ConsentRefused,
    GuardianConsent,
    ReferralBasis,
    ReferralNotConsented,
    clear_referral,
)

WITA = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2025, 6, 30, 10, tzinfo=WITA)
REFERRAL, SHARING = ConsentPurpose.REFERRAL, ConsentPurpose.DATA_SHARING
GIVEN, REFUSED, WITHDRAWN = ConsentDecision.GIVEN, ConsentDecision.REFUSED, ConsentDecision.WITHDRAWN


def day(month: int, d: int = 1) -> dt.date:
    return dt.date(2025, month, d)


def consent(*decisions: tuple[ConsentPurpose, ConsentDecision, dt.date]) -> GuardianConsent:
    guardian = GuardianConsent("chd_1")
    for purpose, decision, decided_on in decisions:
        guardian.record(purpose, decision, decided_on=decided_on, recorded_by="kader_1", recorded_at=NOW)
    return guardian


def override(**changes: object) -> ConsentOverride:
    fields: dict[str, object] = {"officer_id": "dinas_ppa_1", "district_code": "52.03", "at": NOW,
                                 "reason": "child at immediate risk; father refuses while the child works nights"}
    return ConsentOverride(**(fields | changes))


def test_nothing_is_allowed_before_the_guardian_is_asked() -> None:
    guardian = consent()
    assert (guardian.may_share(), guardian.may_refer(), guardian.decision(REFERRAL)) == (False, False, None)


def test_each_purpose_is_decided_on_its_own() -> None:
    guardian = consent((REFERRAL, GIVEN, day(2)), (SHARING, REFUSED, day(2)))
    assert (guardian.may_refer(), guardian.may_share()) == (True, False)


def test_consent_can_be_withdrawn_after_it_was_given_and_the_latest_decision_wins() -> None:
    guardian = consent((REFERRAL, GIVEN, day(2)), (REFERRAL, WITHDRAWN, day(3)))
    assert not guardian.may_refer()
    guardian.record(REFERRAL, GIVEN, decided_on=day(5), recorded_by="kader_2", recorded_at=NOW)
    assert guardian.may_refer()
    assert [(r.decision, r.decided_on, r.recorded_by) for r in guardian.history(REFERRAL)] == [
        (GIVEN, day(2), "kader_1"), (WITHDRAWN, day(3), "kader_1"), (GIVEN, day(5), "kader_2")]


def test_an_older_decision_recorded_late_does_not_undo_a_newer_one() -> None:
    guardian = consent((REFERRAL, GIVEN, day(2)), (REFERRAL, WITHDRAWN, day(4)), (REFERRAL, GIVEN, day(3)))
    assert guardian.decision(REFERRAL) is WITHDRAWN
    assert guardian.decision(REFERRAL, on=day(3)) is GIVEN


def test_decisions_of_the_same_day_rank_in_the_order_recorded() -> None:
    assert not consent((REFERRAL, GIVEN, day(2)), (REFERRAL, WITHDRAWN, day(2))).may_refer()
    assert consent((REFERRAL, REFUSED, day(2)), (REFERRAL, GIVEN, day(2))).may_refer()


@pytest.mark.parametrize("earlier", [[], [(REFERRAL, REFUSED, day(2))], [(SHARING, GIVEN, day(2))],
                                     [(REFERRAL, GIVEN, day(4))]])
def test_consent_never_given_by_that_date_cannot_be_withdrawn(
        earlier: list[tuple[ConsentPurpose, ConsentDecision, dt.date]]) -> None:
    guardian = consent(*earlier)
    with pytest.raises(ConsentRefused, match=r"^decision: referral consent was not given on that date"):
        guardian.record(REFERRAL, WITHDRAWN, decided_on=day(3), recorded_by="kader_1", recorded_at=NOW)
    assert len(guardian.records) == len(earlier)


def test_a_decision_says_who_recorded_it_and_cannot_postdate_its_recording() -> None:
    guardian = consent()
    with pytest.raises(ConsentRefused, match=r"^decided_on: "):
        guardian.record(REFERRAL, GIVEN, decided_on=day(7), recorded_by="kader_1", recorded_at=NOW)
    with pytest.raises(MissingAttribution, match=r"^recorded_by: "):
        guardian.record(REFERRAL, GIVEN, decided_on=day(2), recorded_by="", recorded_at=NOW)
    with pytest.raises(MissingAttribution, match=r"^recorded_at: "):
        guardian.record(REFERRAL, GIVEN, decided_on=day(2), recorded_by="kader_1", recorded_at=NOW.replace(tzinfo=None))


def test_a_referral_with_referral_consent_rests_on_it() -> None:
    clearance = clear_referral(consent((REFERRAL, GIVEN, day(2))))
    assert (clearance.basis, clearance.consent, clearance.override) == (ReferralBasis.GUARDIAN_CONSENT, GIVEN, None)


@pytest.mark.parametrize(("decisions", "state"), [
    ((), "was never asked"),
    (((REFERRAL, REFUSED, day(2)),), "is refused"),
    (((REFERRAL, GIVEN, day(2)), (REFERRAL, WITHDRAWN, day(3))), "is withdrawn"),
    (((SHARING, GIVEN, day(2)),), "was never asked"),
])
def test_a_referral_without_referral_consent_is_refused(
        decisions: tuple[tuple[ConsentPurpose, ConsentDecision, dt.date], ...], state: str) -> None:
    with pytest.raises(ReferralNotConsented, match=rf"^consent: referral consent {state} and no district officer"):
        clear_referral(consent(*decisions))


def test_an_authorised_override_allows_the_referral_and_keeps_what_it_overrode() -> None:
    clearance = clear_referral(consent((REFERRAL, REFUSED, day(2))), override())
    assert (clearance.basis, clearance.consent, clearance.override) == (ReferralBasis.OVERRIDE, REFUSED, override())


@pytest.mark.parametrize(("changes", "field"), [
    ({"officer_id": " "}, "officer_id"),
    ({"reason": ""}, "reason"),
    ({"at": NOW.replace(tzinfo=None)}, "at"),
    ({"district_code": "52.03.20"}, "district_code"),
    ({"district_code": "52"}, "district_code"),
    ({"district_code": "5203"}, "district_code"),
])
def test_an_override_says_who_for_which_district_when_and_why(changes: dict[str, object], field: str) -> None:
    with pytest.raises((MissingAttribution, ConsentRefused)) as caught:
        override(**changes)
    assert caught.value.field == field
