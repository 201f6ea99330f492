"""What an erasure of a child (ChildErasedV1) takes out of the child's referrals: every free text, which can name
people (a decline's reason, the officer's reasons for overriding consent or capacity, service record notes). Ids,
codes, statuses, dates and attachments' references stay, so the referral's history and the counts stay right."""

from __future__ import annotations

from dataclasses import replace

from referral.domain.lifecycle import ReferralStatus
from referral.domain.overrides import Override
from referral.domain.referrals import Referral

ERASED_TEXT = "(erased)"
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
