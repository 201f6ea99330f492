"""Use cases of the `referrals` area (see the package's docstring): issue a referral through the consent and
eligibility gates, take it along its lifecycle, read, search and queue referrals in the caller's district scope, and
follow the guardians' consent (a withdrawal revokes the child's open referrals and tells the provider)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from referral.adapters import contract_mapping
from referral.adapters.referral_repository import Queued, ReferralSearch
from referral.domain.commands.referrals import (
    AcceptReferral,
    AcknowledgeReferral,
    CompleteReferral,
    DeclineReferral,
    IssueReferral,
    ReadDistrictQueue,
    ReadReferral,
    RecordConsentDecisions,
    RecordService,
    RevokeReferral,
    SearchReferrals,
    StartService,
    Step,
)
from referral.domain.consent import consent_basis
from referral.domain.district_queue import withdraw_consent
from referral.domain.errors import Forbidden, NotFound
from referral.domain.lifecycle import ReferralRequest, ServiceRecord
from referral.domain.overrides import Override
from referral.domain.providers import Capacity
from referral.domain.referrals import Referral
from referral.service_layer.handlers.deadlines import watch_deadlines
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.callers import Caller
from simpul_platform.errors import Stale
from simpul_platform.unit_of_work import Access

OVERRIDING_ROLE = "district_officer"
"""Who may override the consent gate or a full capacity: an authorised district officer, never a client."""
PROVIDER_ROLE = "provider"


class ReferralNotFound(NotFound):
    """No such referral in the caller's scope (the same answer when it exists in another district)."""

    title = "Referral not found"

    def __init__(self) -> None:
        super().__init__("referral_id", "no such referral in your scope")


def access(by: Caller, action: str, referral_ids: Iterable[str], reason: str | None = None) -> Access:
    """The audit entry of an access to or a decision on referrals."""
    return Access(subject=by.subject, role=str(by.role), action=action, resource="referral",
                  resource_ids=tuple(referral_ids), reason=reason)


def publish(uow: ReferralUnitOfWork, referral: Referral) -> None:
    """Queue the referral's new events on the outbox (as wire events) and forget them on the aggregate."""
    events, referral.events = referral.events, []
    uow.publish(*contract_mapping.referral_events(events))


async def save_and_publish(uow: ReferralUnitOfWork, referrals: Sequence[Referral]) -> int:
    """Save each changed referral and queue its new events (a revocation tells the provider); how many."""
    for referral in referrals:
        await uow.referrals.save(referral)
        publish(uow, referral)
    return len(referrals)


async def issue_referral(command: IssueReferral, uow: ReferralUnitOfWork) -> Referral:
    """Refer a child: consent gate (recorded consent, or an officer's audited override with a reason), then the
    eligibility gate on the provider (each refusal names its rule), then issue and announce."""
    by = command.by
    if not by.covers_region(command.district):
        raise Forbidden("district", "outside your scope")
    provider = await uow.providers.get(command.provider_id)
    if provider is None:
        raise NotFound("provider_id", "no such provider")
    consent = await uow.consents.get(command.child_id)
    consent_override = _override(by, "consent_override_reason", command.consent_override_reason)
    basis = consent_basis(consent.given_at if consent else None, consent_override)
    capacity_override = _override(by, "capacity_override_reason", command.capacity_override_reason)
    previous = await _previous(uow, by, command.previous_referral_id)
    request = ReferralRequest(command.referral_id, command.child_id, command.person_id, command.district,
                              command.service_types, basis, capacity_override)
    referral = Referral.issue(request, provider, by.subject, command.at, previous)
    await uow.referrals.save(referral)
    await watch_deadlines(referral, uow)
    publish(uow, referral)
    uow.audit(access(by, "issue", [referral.referral_id]))
    if request.consent_overridden:
        uow.audit(access(by, "override_consent", [referral.referral_id], command.consent_override_reason))
    if capacity_override is not None and provider.capacity is Capacity.FULL:
        uow.audit(access(by, "override_capacity", [referral.referral_id], command.capacity_override_reason))
    return referral


def _override(by: Caller, field: str, reason: str | None) -> Override | None:
    if reason is None:
        return None
    if str(by.role) != OVERRIDING_ROLE:
        raise Forbidden(field, "only a district officer may override")
    return Override(by.subject, reason)


async def _previous(uow: ReferralUnitOfWork, by: Caller, referral_id: str | None) -> Referral | None:
    if referral_id is None:
        return None
    previous = await uow.referrals.get(referral_id, for_update=True)
    if previous is None or not by.covers_region(previous.request.district):
        raise NotFound("previous_referral_id", "no such referral in your scope")
    return previous


async def acknowledge_referral(command: AcknowledgeReferral, uow: ReferralUnitOfWork) -> Referral:
    """The provider saw the referral."""
    return await _move(command, uow, lambda r: r.acknowledge(command.by.subject, command.at))


async def accept_referral(command: AcceptReferral, uow: ReferralUnitOfWork) -> Referral:
    """The provider will serve the child."""
    return await _move(command, uow, lambda r: r.accept(command.by.subject, command.at))


async def decline_referral(command: DeclineReferral, uow: ReferralUnitOfWork) -> Referral:
    """The provider will not serve the child (a reason code): the referral goes to the district queue."""
    return await _move(command, uow, lambda r: r.decline(command.reason.value, command.by.subject, command.at))


async def start_service(command: StartService, uow: ReferralUnitOfWork) -> Referral:
    """The provider began serving the child."""
    return await _move(command, uow, lambda r: r.start_service(command.by.subject, command.at))


async def record_service(command: RecordService, uow: ReferralUnitOfWork) -> Referral:
    """A service of the referral was delivered (recording one on an accepted referral starts the service)."""
    record = ServiceRecord(command.service_type, command.delivered_on, command.by.subject, command.at, command.notes)
    return await _move(command, uow, lambda r: r.record_service(record))


async def complete_referral(command: CompleteReferral, uow: ReferralUnitOfWork) -> Referral:
    """Close the loop (needs at least one service record)."""
    return await _move(command, uow, lambda r: r.complete(command.by.subject, command.at))


async def revoke_referral(command: RevokeReferral, uow: ReferralUnitOfWork) -> Referral:
    """The district takes the referral back (the provider is told); district officers only, audited with the
    note."""
    if str(command.by.role) == PROVIDER_ROLE:
        raise Forbidden("referral_id", "a provider declines, it does not revoke")
    referral = await _move(command, uow, lambda r: r.revoke(command.reason, command.note, command.by.subject,
                                                            command.at))
    uow.audit(access(command.by, "revoke", [referral.referral_id], command.note))
    return referral


async def _move(command: Step, uow: ReferralUnitOfWork, move: Callable[[Referral], None]) -> Referral:
    referral = await _in_scope(uow, command.by, command.referral_id, for_update=True)
    if command.expected_version is not None and command.expected_version != referral.version:
        raise Stale("If-Match", "the referral changed since you read it")
    move(referral)
    await save_and_publish(uow, [referral])
    return referral


async def _in_scope(uow: ReferralUnitOfWork, by: Caller, referral_id: str, *, for_update: bool = False
                    ) -> Referral:
    referral = await uow.referrals.get(referral_id, for_update=for_update)
    if referral is None or not _may_see(by, referral):
        raise ReferralNotFound
    return referral


def _may_see(by: Caller, referral: Referral) -> bool:
    if str(by.role) == PROVIDER_ROLE:
        return referral.provider_id in by.scope
    return by.covers_region(referral.request.district)


async def read_referral(command: ReadReferral, uow: ReferralUnitOfWork) -> Referral:
    """One referral in the caller's scope; the read is audited (it names a child)."""
    referral = await _in_scope(uow, command.by, command.referral_id)
    uow.audit(access(command.by, "read", [referral.referral_id], command.reason))
    return referral


async def search_referrals(command: SearchReferrals, uow: ReferralUnitOfWork) -> list[Referral]:
    """The referrals in the caller's district scope that match; every referral shown is audited."""
    found = await uow.referrals.search(ReferralSearch(
        command.by.scope, command.status, command.provider_id, command.child_id, command.person_id,
        command.limit, command.offset))
    if found:
        uow.audit(access(command.by, "search", [r.referral_id for r in found], command.reason))
    return found


async def read_district_queue(command: ReadDistrictQueue, uow: ReferralUnitOfWork) -> list[Queued]:
    """Re-routed, overdue, declined and expired referrals of the caller's districts, not re-referred yet (audited)."""
    queued = await uow.referrals.queue(command.by.scope, command.limit)
    if queued:
        uow.audit(access(command.by, "read_queue", [q.referral.referral_id for q in queued], command.reason))
    return queued


async def record_consent_decisions(command: RecordConsentDecisions, uow: ReferralUnitOfWork) -> int:
    """Keep each child's consent for referral as the newest recorded decision says (an older one arriving late
    changes nothing); when consent stops holding, revoke the child's open referrals. Returns how many were revoked."""
    revoked = 0
    for state in command.decisions:
        current = await uow.consents.get(state.child_id)
        if not state.supersedes(current):
            continue
        await uow.consents.save(state)
        if state.given:
            continue
        revoked += await save_and_publish(uow, withdraw_consent(await uow.referrals.open_of_child(state.child_id),
                                                                command.at))
    return revoked
