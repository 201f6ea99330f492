"""The only bridge between the wire events (identity's, registry's, referral's own) and referral's domain."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import simpul_contracts.events.referral.referrals as wire
from referral.domain import events as ev
from referral.domain.consent import ConsentState
from referral.domain.model import KnownPerson
from simpul_contracts.events import RecordLinkedV1
from simpul_contracts.events.registry import ConsentChangedV1, ConsentDecision, ConsentPurpose


def known_person(event: RecordLinkedV1) -> KnownPerson:
    """A link event as the person referral now knows of."""
    return KnownPerson(record_key=event.key, person_id=event.person_id, village_code=event.village_code)


# --- referrals (referral.referral.v1) and the guardians' consent (registry.child.v1) -----------------------------

def _about(event: ev.ReferralEvent) -> dict[str, Any]:
    return {"referral_id": event.referral_id, "provider_id": event.provider_id, "by": event.by, "at": event.at}


def _issued(event: ev.ReferralIssued) -> wire.ReferralIssuedV1:
    return wire.ReferralIssuedV1(**_about(event), child_id=event.child_id, person_id=event.person_id,
                                 district=event.district, service_types=event.service_types,
                                 consent_overridden=event.consent_overridden,
                                 previous_referral_id=event.previous_referral_id)


def _declined(event: ev.ReferralDeclined) -> wire.ReferralDeclinedV1:
    # The domain keeps the provider's reason as given; the wire carries codes only (never free text).
    code = event.reason if event.reason in wire.DeclineReason._value2member_map_ else wire.DeclineReason.OTHER
    return wire.ReferralDeclinedV1(**_about(event), reason=wire.DeclineReason(code))


_REFERRAL_EVENTS: dict[type[ev.ReferralEvent], Callable[[Any], wire.ReferralEvent]] = {
    ev.ReferralIssued: _issued,
    ev.ReferralAcknowledged: lambda e: wire.ReferralAcknowledgedV1(**_about(e)),
    ev.ReferralAccepted: lambda e: wire.ReferralAcceptedV1(**_about(e)),
    ev.ReferralDeclined: _declined,
    ev.ServiceStarted: lambda e: wire.ReferralServiceStartedV1(**_about(e)),
    ev.ServiceRecorded: lambda e: wire.ReferralServiceRecordedV1(**_about(e), service_type=e.service_type,
                                                                 delivered_on=e.delivered_on),
    ev.ReferralCompleted: lambda e: wire.ReferralCompletedV1(**_about(e)),
    ev.ReferralRevoked: lambda e: wire.ReferralRevokedV1(**_about(e), reason=wire.RevocationReason(e.reason)),
    ev.ReferralExpired: lambda e: wire.ReferralExpiredV1(**_about(e)),
    ev.ReferralOverdue: lambda e: wire.ReferralOverdueV1(**_about(e), deadline_id=e.deadline_id,
                                                         step=wire.DeadlineStep(e.step), due_at=e.due_at),
    ev.ReferralEscalated: lambda e: wire.ReferralEscalatedV1(**_about(e), deadline_id=e.deadline_id,
                                                             due_at=e.due_at),
    ev.ReferralPersonChanged: lambda e: wire.ReferralPersonChangedV1(
        **_about(e), previous_person_id=e.previous_person_id, person_id=e.person_id, merge_id=e.merge_id),
}


def referral_events(events: Iterable[ev.ReferralEvent]) -> list[wire.ReferralEvent]:
    """A referral's domain events as its wire events, in order (reasons as codes, notes left out)."""
    return [_REFERRAL_EVENTS[type(event)](event) for event in events]


def consent_state(event: ConsentChangedV1) -> ConsentState | None:
    """The consent for referral a registry decision leaves in force; None for another purpose."""
    if event.purpose is not ConsentPurpose.REFERRAL:
        return None
    return ConsentState(event.child_id, event.decision_in_force is ConsentDecision.GIVEN, event.recorded_at)
