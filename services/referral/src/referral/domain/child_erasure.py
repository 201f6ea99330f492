"""What an erasure of a child (ChildErasedV1) takes out of the child's referrals: every free text, which can name
people (a decline's reason, the officer's reasons for overriding consent or capacity, service record notes). Ids,
codes, statuses, dates and attachments' references stay, so the referral's history and the counts stay right. The
child's open referrals are revoked (`ERASURE_REVOCATION`): the provider could no longer read whom it serves."""

from __future__ import annotations

from dataclasses import replace

from referral.domain.lifecycle import ReferralStatus, RevocationReason
from referral.domain.overrides import Override
from referral.domain.referrals import Referral

ERASED_TEXT = "(erased)"
ERASURE_REVOCATION = RevocationReason.DISTRICT_DECISION
"""Why an erased child's open referrals are revoked: the erasure is a district officer's decision (ADR 0006). There
is no `child_erased` code: a new value of the v1 contract's enum would be dead-lettered by its older readers
(forward-breaking, contracts/README); the audit log names the erasure."""
FREE_TEXT_STEPS = frozenset({ReferralStatus.DECLINED})  # other steps' reasons are codes


def erase_free_texts(referral: Referral) -> bool:
    """Replace the referral's free texts; whether any was there."""
    before = (referral.history, referral.service_records, referral.request)
    referral.history = [replace(step, reason=ERASED_TEXT) if step.status in FREE_TEXT_STEPS and step.reason
                        else step for step in referral.history]
    referral.service_records = [replace(record, notes=ERASED_TEXT) if record.notes else record
                                for record in referral.service_records]
    request = referral.request
    consent, capacity = request.consent, request.capacity_override
    referral.request = replace(
        request, consent=_erased(consent) if isinstance(consent, Override) else consent,
        capacity_override=_erased(capacity) if capacity is not None else None)
    return (referral.history, referral.service_records, referral.request) != before


def _erased(override: Override) -> Override:
    return replace(override, reason=ERASED_TEXT)
