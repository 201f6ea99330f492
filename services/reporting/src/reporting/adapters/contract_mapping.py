"""The only bridge between the wire events reporting consumes and reporting's domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

from reporting.domain.facts import (
    ChildEvent,
    ChildEventKind,
    Merge,
    ProviderEvent,
    ProviderStep,
    ReferralEvent,
    ReferralStep,
)
from reporting.domain.feed import ProtectedCell
from reporting.domain.model import RecordPerson
from simpul_contracts import CloudEvent, Event
from simpul_contracts.events import (
    CaseStatusChangedV1,
    ChildClassifiedV1,
    ChildRegisteredV1,
    ChildUpdatedV1,
    ConsentChangedV1,
    MonitoringVisitRecordedV1,
    PersonsMergedV1,
    PersonUnmergedV1,
    RecordLinkedV1,
)
from simpul_contracts.events.referral.providers import (
    ProviderAgreementChangedV1,
    ProviderCapacityChangedV1,
    ProviderDetailsChangedV1,
    ProviderOffboardedV1,
    ProviderRegisteredV1,
    ProviderReinstatedV1,
    ProviderRescoredV1,
    ProviderSuspendedV1,
    ProviderVettedV1,
)
from simpul_contracts.events.referral.referrals import (
    ReferralAcceptedV1,
    ReferralAcknowledgedV1,
    ReferralCompletedV1,
    ReferralDeclinedV1,
    ReferralEscalatedV1,
    ReferralExpiredV1,
    ReferralIssuedV1,
    ReferralOverdueV1,
    ReferralPersonChangedV1,
    ReferralRevokedV1,
    ReferralServiceRecordedV1,
    ReferralServiceStartedV1,
)
from simpul_contracts.events.referral.referrals import ReferralEvent as WireReferralEvent
from simpul_contracts.events.registry import ChildStateEvent
from simpul_contracts.events.reporting import AgeBand as WireAgeBand
from simpul_contracts.events.reporting import FeedSex, IndicatorPublishedV1
from simpul_contracts.events.reporting import RegionLevel as WireRegionLevel


def record_person(event: RecordLinkedV1) -> RecordPerson:
    """A link event as the domain's record -> person link."""
    return RecordPerson(record_key=event.key, person_id=event.person_id, village_code=event.village_code)


# --- indicator facts (registry.child.v1, identity.person.v1, referral.referral.v1, referral.provider.v1) --------

CHILD_KINDS: dict[type[ChildStateEvent], tuple[ChildEventKind, str]] = {
    ChildRegisteredV1: (ChildEventKind.REGISTERED, "registered_at"),
    ChildUpdatedV1: (ChildEventKind.UPDATED, "updated_at"),
    ChildClassifiedV1: (ChildEventKind.CLASSIFIED, "classified_at"),
    CaseStatusChangedV1: (ChildEventKind.STATUS_CHANGED, "changed_at"),
    ConsentChangedV1: (ChildEventKind.CONSENT_CHANGED, "recorded_at"),
}


def child_event(event: ChildStateEvent, envelope: CloudEvent) -> ChildEvent:
    """A child event as the fact reporting keeps: the state after it, its own time and its publication time."""
    extra: dict[str, object] = {}
    if isinstance(event, MonitoringVisitRecordedV1):
        kind, occurred = ChildEventKind.VISITED, _midnight(event.visited_on)
        extra = {"child_working": event.child_working}
    else:
        kind, field = CHILD_KINDS[type(event)]
        occurred = getattr(event, field)
    if isinstance(event, CaseStatusChangedV1):
        extra = {"previous_status": event.previous.value if event.previous else None,
                 "closure_reason": event.closure_reason.value if event.closure_reason else None}
    return ChildEvent(
        event_id=envelope.id, kind=kind, child_id=event.child_id, person_id=event.person_id, sex=event.sex.value,
        birth_year=event.birth_year, village_code=event.village_code, case_id=event.case_id,
        classification=event.classification.value if event.classification else None,
        status=event.status.value if event.status else None, occurred_at=occurred, stamp=envelope.time,
        **extra)  # type: ignore[arg-type]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def merge(event: PersonsMergedV1 | PersonUnmergedV1) -> Merge:
    """A merge, or its undoing, as the merge it names."""
    if isinstance(event, PersonsMergedV1):
        return Merge(event.merge_id, event.retired_person_id, event.surviving_person_id, undone=False)
    return Merge(event.merge_id, event.person_id, event.unmerged_from_person_id, undone=True)


REFERRAL_STEPS: dict[type[WireReferralEvent], ReferralStep] = {
    ReferralIssuedV1: ReferralStep.ISSUED, ReferralAcknowledgedV1: ReferralStep.ACKNOWLEDGED,
    ReferralAcceptedV1: ReferralStep.ACCEPTED, ReferralDeclinedV1: ReferralStep.DECLINED,
    ReferralServiceStartedV1: ReferralStep.SERVICE_STARTED, ReferralServiceRecordedV1: ReferralStep.SERVICE_RECORDED,
    ReferralCompletedV1: ReferralStep.COMPLETED, ReferralRevokedV1: ReferralStep.REVOKED,
    ReferralExpiredV1: ReferralStep.EXPIRED, ReferralOverdueV1: ReferralStep.OVERDUE,
    ReferralEscalatedV1: ReferralStep.ESCALATED, ReferralPersonChangedV1: ReferralStep.PERSON_CHANGED,
}


def referral_event(event: WireReferralEvent, envelope: CloudEvent) -> ReferralEvent:
    """A referral event as the fact reporting keeps (codes only; no free text travels)."""
    fact = ReferralEvent(envelope.id, event.referral_id, event.provider_id, REFERRAL_STEPS[type(event)], event.at)
    if isinstance(event, ReferralIssuedV1):
        return replace(fact, child_id=event.child_id, district=event.district, service_types=event.service_types)
    if isinstance(event, ReferralServiceRecordedV1):
        return replace(fact, service_types=(event.service_type,), delivered_on=event.delivered_on)
    if isinstance(event, ReferralDeclinedV1 | ReferralRevokedV1):
        return replace(fact, reason=event.reason.value)
    return fact


PROVIDER_STEPS: dict[type[Event], ProviderStep] = {
    ProviderRegisteredV1: ProviderStep.REGISTERED, ProviderDetailsChangedV1: ProviderStep.DETAILS_CHANGED,
    ProviderVettedV1: ProviderStep.VETTED, ProviderRescoredV1: ProviderStep.VETTED,
    ProviderAgreementChangedV1: ProviderStep.AGREEMENT_CHANGED, ProviderSuspendedV1: ProviderStep.SUSPENDED,
    ProviderReinstatedV1: ProviderStep.REINSTATED, ProviderOffboardedV1: ProviderStep.OFFBOARDED,
    ProviderCapacityChangedV1: ProviderStep.OTHER,
}


def provider_event(event: Event, envelope: CloudEvent) -> ProviderEvent:
    """A provider event as the fact reporting keeps: districts, recommendation, agreement period."""
    provider_id, recorded_at = getattr(event, "provider_id"), getattr(event, "recorded_at")  # noqa: B009
    fact = ProviderEvent(envelope.id, provider_id, PROVIDER_STEPS[type(event)], recorded_at)
    if isinstance(event, ProviderRegisteredV1 | ProviderDetailsChangedV1):
        return replace(fact, districts=tuple(event.districts))
    if isinstance(event, ProviderVettedV1 | ProviderRescoredV1):
        return replace(fact, recommendation=event.recommendation.value)
    if isinstance(event, ProviderAgreementChangedV1):
        return replace(fact, districts=tuple(event.districts), agreement_id=event.agreement_id,
                       starts_on=event.starts_on, ends_on=event.ends_on)
    return fact


def indicators_published(
    cells: Iterable[ProtectedCell], publication_id: str, published_at: dt.datetime, as_of: dt.date
) -> list[IndicatorPublishedV1]:
    """The aggregate topic's events of a protected publication: one per cell, district level and above only (a
    village never leaves on the topic)."""
    return [
        IndicatorPublishedV1(
            publication_id=publication_id, published_at=published_at, as_of=as_of, indicator=cell.key.indicator,
            region_code=cell.key.region_code, region_level=WireRegionLevel(cell.key.region_level.value),
            period=cell.key.period, sex=FeedSex(cell.key.sex.value), age_band=WireAgeBand(cell.key.age_band.value),
            value=cell.value,
        )
        for cell in cells
        if cell.key.region_level.district_or_above
    ]
