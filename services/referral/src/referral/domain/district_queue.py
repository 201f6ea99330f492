"""What goes back to the district: referrals re-routed from a provider that left, overdue, declined or expired.

A suspension or offboarding revokes the provider's open referrals (they return to the district queue, and the
provider is told by the revocation); a consent withdrawal or the registry's erasure of the child revokes the child's
open referrals. A referral leaves the queue when the district re-refers the child (the new referral links to it) or
the referral is answered.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

from referral.domain.deadlines import escalated
from referral.domain.lifecycle import AWAITING_ANSWER, ReferralStatus, RevocationReason
from referral.domain.providers import Provider, ProviderStatus
from referral.domain.referrals import Referral

REROUTING = {ProviderStatus.SUSPENDED: RevocationReason.PROVIDER_SUSPENDED,
             ProviderStatus.OFFBOARDED: RevocationReason.PROVIDER_OFFBOARDED}


class QueueReason(enum.StrEnum):
    """Why a referral waits in the district queue."""

    REROUTED = "rerouted"
    OVERDUE = "overdue"
    DECLINED = "declined"
    EXPIRED = "expired"


def return_to_district(provider: Provider, referrals: Iterable[Referral], at: dt.datetime) -> list[Referral]:
    """Revoke the open referrals of a provider just suspended or offboarded; the ones revoked."""
    reason = REROUTING.get(provider.status)
    if reason is None:
        return []
    return revoke_open((referral for referral in referrals if referral.provider_id == provider.provider_id),
                       reason, at)


def withdraw_consent(referrals: Iterable[Referral], at: dt.datetime) -> list[Referral]:
    """Revoke the child's open referrals after the guardian withdrew consent for referral; the ones revoked."""
    return revoke_open(referrals, RevocationReason.CONSENT_WITHDRAWN, at)


def revoke_open(referrals: Iterable[Referral], reason: RevocationReason, at: dt.datetime) -> list[Referral]:
    """Revoke by rule, as the system, those of the referrals still open; the ones revoked (terminal ones stay)."""
    return [referral for referral in referrals if referral.revoke_if_open(reason, at)]


def queue_reason(referral: Referral, rereferred: bool = False) -> QueueReason | None:
    """Why the referral is in the district queue, None when it is not (or was re-referred already)."""
    if rereferred:
        return None
    last = referral.history[-1]
    if referral.status is ReferralStatus.REVOKED and last.reason in REROUTING.values():
        return QueueReason.REROUTED
    if referral.status in AWAITING_ANSWER and escalated(referral):
        return QueueReason.OVERDUE
    return {ReferralStatus.DECLINED: QueueReason.DECLINED, ReferralStatus.EXPIRED: QueueReason.EXPIRED}.get(
        referral.status)
