"""The district queue: referrals re-routed from a suspended or offboarded provider, overdue, declined or expired."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from referral.domain import events as ev
from referral.domain.deadlines import DeadlinePolicies, fire_due
from referral.domain.district_queue import QueueReason, queue_reason, return_to_district, withdraw_consent
from referral.domain.lifecycle import ReferralRequest, ReferralStatus
from referral.domain.providers import Provider
from referral.domain.referrals import Referral

AT = dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def three(provider: Provider, request_for: Callable[..., ReferralRequest], issued: Referral) -> list[Referral]:
    """r1 issued, r2 accepted, r3 declined: all to the conftest's provider."""
    accepted = Referral.issue(request_for(referral_id="r2"), provider, "o", AT)
    accepted.acknowledge("staff", AT)
    accepted.accept("staff", AT)
    declined = Referral.issue(request_for(referral_id="r3"), provider, "o", AT)
    declined.acknowledge("staff", AT)
    declined.decline("full", "staff", AT)
    return [issued, accepted, declined]


@pytest.mark.parametrize(("move", "reason"), [("suspend", "provider_suspended"),
                                              ("offboard", "provider_offboarded")])
def test_a_provider_leaving_sends_its_open_referrals_back_to_the_district(provider: Provider, three: list[Referral],
                                                                          move: str, reason: str) -> None:
    getattr(provider, move)("audit failed", "officer", AT)
    revoked = return_to_district(provider, three, AT)
    assert [referral.referral_id for referral in revoked] == ["r1", "r2"]
    assert all(isinstance(referral.events[-1], ev.ReferralRevoked) for referral in revoked)
    assert [queue_reason(referral) for referral in three] == [QueueReason.REROUTED, QueueReason.REROUTED,
                                                              QueueReason.DECLINED]
    assert revoked[0].history[-1].reason == reason


def test_an_active_provider_keeps_its_referrals(provider: Provider, three: list[Referral]) -> None:
    assert return_to_district(provider, three, AT) == []


def test_consent_withdrawal_revokes_the_open_ones_and_they_do_not_queue(three: list[Referral]) -> None:
    revoked = withdraw_consent(three, AT)
    assert [referral.referral_id for referral in revoked] == ["r1", "r2"]
    assert [referral.status for referral in three] == [ReferralStatus.REVOKED] * 2 + [ReferralStatus.DECLINED]
    assert queue_reason(three[0]) is None


def test_an_escalated_referral_queues_as_overdue_then_as_expired(issued: Referral) -> None:
    fire_due(issued, DeadlinePolicies(), issued.issued_at + dt.timedelta(days=3))
    assert queue_reason(issued) is None
    fire_due(issued, DeadlinePolicies(), issued.issued_at + dt.timedelta(days=7))
    assert queue_reason(issued) is QueueReason.OVERDUE
    fire_due(issued, DeadlinePolicies(), issued.issued_at + dt.timedelta(days=14))
    assert queue_reason(issued) is QueueReason.EXPIRED


def test_a_re_referred_referral_leaves_the_queue(three: list[Referral]) -> None:
    assert queue_reason(three[2], rereferred=True) is None
