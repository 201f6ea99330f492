"""The only bridge between identity's wire events and referral's domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from functools import singledispatch
from typing import Any

import simpul_contracts.events.referral.referrals as wire
from referral.domain import events as ev
from referral.domain.case_status import CaseStatus
from referral.domain.child_details import ChildDetails, GuardianContact, Withdrawal
from referral.domain.commands.child_details import EraseChildrenDetails
from referral.domain.commands.persons import PersonsMerged, PersonUnmerged
from referral.domain.consent import ConsentState
from referral.domain.events import (
    AgreementChanged,
    CapacityChanged,
    ProviderDetailsChanged,
    ProviderEvent,
    ProviderOffboarded,
    ProviderRegistered,
    ProviderReinstated,
    ProviderRescored,
    ProviderSuspended,
    ProviderVetted,
)
from referral.domain.lifecycle import ReferralStatus
from referral.domain.model import KnownPerson
from referral.domain.webhooks import ReferralNotice, WebhookEventType
from simpul_contracts import Event
from simpul_contracts.events import CaseStatusChangedV1, PersonsMergedV1, PersonUnmergedV1, RecordLinkedV1
from simpul_contracts.events.referral import providers as pw
from simpul_contracts.events.registry import CaseStatus as WireCaseStatus
from simpul_contracts.events.registry import (
    ChildErasedV1,
    ChildReferralDetailsRecordedV1,
    ChildReferralDetailsWithdrawnV1,
    ConsentChangedV1,
    ConsentDecision,
    ConsentPurpose,
)


def known_person(event: RecordLinkedV1) -> KnownPerson:
    """A link event as the person referral now knows of."""
    return KnownPerson(record_key=event.key, person_id=event.person_id, village_code=event.village_code,
                       linked_at=event.linked_at)


def persons_merged(event: PersonsMergedV1) -> PersonsMerged:
    """Identity's merge as the move referral follows."""
    return PersonsMerged(merge_id=event.merge_id, retired_person_id=event.retired_person_id,
                         surviving_person_id=event.surviving_person_id, at=event.merged_at)


def person_unmerged(event: PersonUnmergedV1) -> PersonUnmerged:
    """Identity's unmerge as the move back referral follows."""
    return PersonUnmerged(merge_id=event.merge_id, person_id=event.person_id,
                          unmerged_from_person_id=event.unmerged_from_person_id, at=event.unmerged_at)


def case_status(event: CaseStatusChangedV1) -> CaseStatus:
    """The registry's case status change as referral keeps it."""
    return CaseStatus(child_id=event.child_id, status=str(event.status), closed=event.status is WireCaseStatus.CLOSED,
                      changed_at=event.changed_at)


# --- the provider directory (owned by the directory area) -----------------------------------------------------


def provider_event(event: ProviderEvent) -> Event:
    """A provider's domain event as its wire event on `referral.provider.v1` (contacts and reasons stay here)."""
    return _provider_wire(event, {"provider_id": event.provider_id, "recorded_by": event.by,
                                  "recorded_at": event.at})


@singledispatch
def _provider_wire(event: ProviderEvent, who: dict[str, Any]) -> Event:
    raise TypeError(f"no wire event for {type(event).__name__}")


@_provider_wire.register
def _(event: ProviderRegistered, who: dict[str, Any]) -> Event:
    return pw.ProviderRegisteredV1(**who, organisation=event.organisation, districts=sorted(event.districts),
                                   provider_type=pw.ProviderType(event.provider_type))


@_provider_wire.register
def _(event: ProviderDetailsChanged, who: dict[str, Any]) -> Event:
    return pw.ProviderDetailsChangedV1(**who, districts=sorted(event.districts), catalogue=sorted(event.catalogue))


@_provider_wire.register
def _(event: CapacityChanged, who: dict[str, Any]) -> Event:
    return pw.ProviderCapacityChangedV1(**who, capacity=pw.ProviderCapacity(event.capacity))


@_provider_wire.register
def _(event: ProviderVetted, who: dict[str, Any]) -> Event:
    return pw.ProviderVettedV1(**who, vetting_id=event.vetting_id, total=event.total,
                               recommendation=pw.VettingRecommendation(event.recommendation))


@_provider_wire.register
def _(event: ProviderRescored, who: dict[str, Any]) -> Event:
    return pw.ProviderRescoredV1(**who, vetting_id=event.vetting_id, on=event.on, previous_total=event.previous_total,
                                 total=event.total, recommendation=pw.VettingRecommendation(event.recommendation))


@_provider_wire.register
def _(event: AgreementChanged, who: dict[str, Any]) -> Event:
    return pw.ProviderAgreementChangedV1(**who, agreement_id=event.agreement_id, kind=pw.AgreementKind(event.kind),
                                         starts_on=event.starts_on, ends_on=event.ends_on,
                                         service_types=sorted(event.service_types), districts=sorted(event.districts))


@_provider_wire.register
def _(event: ProviderSuspended, who: dict[str, Any]) -> Event:
    return pw.ProviderSuspendedV1(**who)


@_provider_wire.register
def _(event: ProviderReinstated, who: dict[str, Any]) -> Event:
    return pw.ProviderReinstatedV1(**who)


@_provider_wire.register
def _(event: ProviderOffboarded, who: dict[str, Any]) -> Event:
    return pw.ProviderOffboardedV1(**who)


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
    ev.ServiceRecorded: lambda e: wire.ReferralServiceRecordedV1(
        **_about(e), service_type=e.service_type, delivered_on=e.delivered_on, record_id=e.record_id,
        attendance=None if e.attendance is None else wire.Attendance(e.attendance),
        outcome=None if e.outcome is None else wire.ServiceOutcome(e.outcome)),
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


def child_details(event: ChildReferralDetailsRecordedV1) -> ChildDetails:
    """The registry's minimal details of a child as referral holds them (ordered by the registry's recorded time)."""
    return ChildDetails(
        child_id=event.child_id, full_name=event.full_name, sex=str(event.sex), birth_date=event.birth_date,
        birth_date_precision=str(event.birth_date_precision) if event.birth_date_precision else None,
        village_code=event.village_code,
        guardians=tuple(GuardianContact(g.name, g.relationship, g.phone) for g in event.guardians),
        consent_given_on=event.consent_given_on, as_of=event.recorded_at)


def erasures(events: Sequence[ChildErasedV1], at: dt.datetime) -> EraseChildrenDetails:
    """The registry's erasures of children, as of their moments, with their reason codes (open referrals revoked
    at `at`)."""
    return EraseChildrenDetails(tuple(Withdrawal(child_id=e.child_id, as_of=e.erased_at) for e in events),
                                tuple(e.reason.value for e in events), at)


def details_withdrawal(event: ChildReferralDetailsWithdrawnV1) -> Withdrawal:
    """The end of the guardian's consent for referral, as of the registry's recorded time."""
    return Withdrawal(child_id=event.child_id, as_of=event.recorded_at)


# --- webhooks (owned by the webhooks area): a referral event as the thin notice a provider's endpoint receives ------

_W, _S = WebhookEventType, ReferralStatus
_NOTICES: dict[type[wire.ReferralEvent], tuple[WebhookEventType, ReferralStatus | None]] = {
    wire.ReferralIssuedV1: (_W.ISSUED, _S.ISSUED), wire.ReferralAcknowledgedV1: (_W.ACKNOWLEDGED, _S.ACKNOWLEDGED),
    wire.ReferralAcceptedV1: (_W.ACCEPTED, _S.ACCEPTED), wire.ReferralDeclinedV1: (_W.DECLINED, _S.DECLINED),
    wire.ReferralServiceStartedV1: (_W.SERVICE_STARTED, _S.IN_SERVICE),
    wire.ReferralServiceRecordedV1: (_W.SERVICE_RECORDED, _S.IN_SERVICE),
    wire.ReferralCompletedV1: (_W.COMPLETED, _S.COMPLETED), wire.ReferralRevokedV1: (_W.REVOKED, _S.REVOKED),
    wire.ReferralExpiredV1: (_W.EXPIRED, _S.EXPIRED),
    wire.ReferralOverdueV1: (_W.OVERDUE, None), wire.ReferralEscalatedV1: (_W.ESCALATED, None),  # no move: as it is
}
NOTIFIED_EVENTS = tuple(_NOTICES)
"""The referral events providers hear of by webhook (a person change is identity's business, not the provider's)."""


def referral_notice(event: wire.ReferralEvent, event_id: str) -> ReferralNotice:
    """A referral event (its CloudEvent id the `webhook-id`) as the notice its provider's endpoints receive."""
    kind, status = _NOTICES[type(event)]
    return ReferralNotice(event_id, kind, event.referral_id, event.provider_id, str(status) if status else None,
                          event.at)
