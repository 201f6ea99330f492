"""Use cases of the `directory` area (see the package's docstring): the provider directory, vetting, agreements,
suspension and offboarding, the rescoring job's round and the service-type code list.

District scope: a provider is in a caller's scope when one of its districts is; anything else is answered as not
found, never as forbidden, so a caller learns nothing of other districts. The districts a caller records (a
provider's, an agreement's) must all be in its scope. Every write is audited.

The eligibility gate needs nothing from here: `uow.providers.get(id)` returns the whole aggregate (vettings,
agreements, status, capacity) and the domain's `eligibility.ensure_eligible(provider, placement)` decides.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from referral.adapters import contract_mapping
from referral.adapters.provider_repository import covered
from referral.domain import district_queue
from referral.domain.agreements import Agreement
from referral.domain.commands.directory import (
    ChangeProviderDetails,
    ImportServiceTypes,
    OffboardProvider,
    ReadProvider,
    ReadServiceTypes,
    RecordAgreement,
    RecordVetting,
    RegisterProvider,
    ReinstateProvider,
    RescoreDueProviders,
    SearchProviders,
    SetCapacity,
    SuspendProvider,
)
from referral.domain.errors import Forbidden, NotFound
from referral.domain.providers import Provider
from referral.domain.service_types import CodeListChange, ServiceTypeList
from referral.domain.vetting import Score, Vetting
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.callers import Caller
from simpul_platform.unit_of_work import Access

RESCORER = "referral:rescoring"
"""Who re-scores providers on the wire and in their history: the service's own job."""


def new_id(prefix: str) -> str:
    """An opaque id (`prv_`, `vet_`, `agr_` and 32 hex digits)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def audited(by: Caller, action: str, provider_id: str, reason: str | None = None) -> Access:
    """The audit entry of a change to a provider."""
    return Access(subject=by.subject, role=str(by.role), action=action, resource="provider",
                  resource_ids=(provider_id,), reason=reason)


async def provider_in_scope(uow: ReferralUnitOfWork, by: Caller, provider_id: str, *,
                            for_update: bool = True) -> Provider:
    """The provider when one of its districts is in the caller's scope, locked for a change unless only read; not
    found otherwise."""
    provider = await uow.providers.get(provider_id, for_update=for_update)
    if provider is None or not any(covered(by.scope, district) for district in provider.districts):
        raise NotFound("provider_id", "no such provider in your districts")
    return provider


def require_scope(by: Caller, districts: Iterable[str], field: str) -> None:
    """Refuse districts outside the caller's scope."""
    outside = sorted(d for d in districts if not covered(by.scope, d))
    if outside:
        raise Forbidden(field, f"{', '.join(outside)} outside your districts")


async def require_current_codes(uow: ReferralUnitOfWork, codes: Iterable[str]) -> None:
    """Refuse service types that are unknown or retired in the code list."""
    listed = await uow.service_types.current()
    for code in sorted(codes):
        listed.require_current(code)


async def publish_changes(uow: ReferralUnitOfWork, provider: Provider) -> None:
    """Save the provider and publish what happened to it."""
    await uow.providers.save(provider)
    uow.publish(*(contract_mapping.provider_event(event) for event in provider.events))
    provider.events.clear()


async def register_provider(command: RegisterProvider, uow: ReferralUnitOfWork) -> Provider:
    """A new, active provider in the caller's districts, announced."""
    details = command.details
    require_scope(command.by, details.districts, "districts")
    await require_current_codes(uow, details.catalogue)
    provider = Provider.register(provider_id=new_id("prv"), organisation=command.organisation,
                                 provider_type=command.provider_type, districts=details.districts,
                                 contacts=details.contacts, catalogue=details.catalogue, by=command.by.subject,
                                 at=command.at)
    await publish_changes(uow, provider)
    uow.audit(audited(command.by, "register", provider.provider_id))
    return provider


async def change_provider_details(command: ChangeProviderDetails, uow: ReferralUnitOfWork) -> Provider:
    """Replace the districts, contacts and catalogue (new districts must be the caller's too)."""
    provider = await provider_in_scope(uow, command.by, command.provider_id)
    details = command.details
    require_scope(command.by, details.districts - provider.districts, "districts")
    await require_current_codes(uow, details.catalogue - provider.catalogue)
    provider.change_details(details.districts, details.contacts, details.catalogue, command.by.subject, command.at)
    await publish_changes(uow, provider)
    uow.audit(audited(command.by, "change", provider.provider_id))
    return provider


async def set_capacity(command: SetCapacity, uow: ReferralUnitOfWork) -> Provider:
    """Record the capacity status district officers see."""
    provider = await provider_in_scope(uow, command.by, command.provider_id)
    provider.set_capacity(command.capacity, command.by.subject, command.at)
    await publish_changes(uow, provider)
    uow.audit(audited(command.by, "set_capacity", provider.provider_id))
    return provider


async def read_provider(command: ReadProvider, uow: ReferralUnitOfWork) -> Provider:
    """One provider in the caller's scope."""
    return await provider_in_scope(uow, command.by, command.provider_id, for_update=False)


async def search_providers(command: SearchProviders, uow: ReferralUnitOfWork) -> list[Provider]:
    """Providers in the caller's scope answering the filters, by id."""
    return await uow.providers.search(command.by.scope, command.filters)


async def record_vetting(command: RecordVetting, uow: ReferralUnitOfWork) -> tuple[Provider, Vetting, Score]:
    """Score a vetting by the checklist; the latest vetting becomes current and sets the next re-scoring day."""
    provider = await provider_in_scope(uow, command.by, command.provider_id)
    scores = command.scores
    vetting = Vetting(vetting_id=new_id("vet"), documents=command.documents, track_record=scores.track_record,
                      vision_and_mission=scores.vision_and_mission, child_orientation=scores.child_orientation,
                      years_with_children=scores.years_with_children, vetted_by=command.by.subject,
                      vetted_at=command.at, evidence=command.evidence, notes=command.notes)
    score = provider.record_vetting(vetting)
    await publish_changes(uow, provider)
    if provider.current_vetting is vetting:
        await uow.providers.schedule_rescoring(provider.provider_id, vetting.next_change_after(command.at.date()))
    uow.audit(audited(command.by, "vet", provider.provider_id))
    return provider, vetting, score


async def record_agreement(command: RecordAgreement, uow: ReferralUnitOfWork) -> tuple[Provider, Agreement]:
    """Record an MoU or PKS, or amend one of the provider's (an unknown agreement id is not found)."""
    provider = await provider_in_scope(uow, command.by, command.provider_id)
    terms = command.terms
    if command.agreement_id is not None and command.agreement_id not in provider.agreements:
        raise NotFound("agreement_id", "no such agreement of this provider")
    require_scope(command.by, terms.districts, "districts")
    await require_current_codes(uow, terms.service_types)
    agreement = Agreement(agreement_id=command.agreement_id or new_id("agr"), kind=terms.kind,
                          document_reference=terms.document_reference, starts_on=terms.starts_on,
                          ends_on=terms.ends_on, service_types=terms.service_types, districts=terms.districts)
    provider.record_agreement(agreement, command.by.subject, command.at)
    await publish_changes(uow, provider)
    uow.audit(audited(command.by, "agreement", provider.provider_id))
    return provider, agreement


async def suspend_provider(command: SuspendProvider, uow: ReferralUnitOfWork) -> Provider:
    """Suspend the provider and send its open referrals back to the district queue."""
    provider = await provider_in_scope(uow, command.by, command.provider_id)
    provider.suspend(command.reason, command.by.subject, command.at)
    await _return_to_district(uow, provider, command)
    uow.audit(audited(command.by, "suspend", provider.provider_id, command.reason))
    return provider


async def reinstate_provider(command: ReinstateProvider, uow: ReferralUnitOfWork) -> Provider:
    """Let a suspended provider receive referrals again."""
    provider = await provider_in_scope(uow, command.by, command.provider_id)
    provider.reinstate(command.by.subject, command.at)
    await publish_changes(uow, provider)
    uow.audit(audited(command.by, "reinstate", provider.provider_id))
    return provider


async def offboard_provider(command: OffboardProvider, uow: ReferralUnitOfWork) -> Provider:
    """Offboard the provider for good (no more re-scoring) and send its open referrals back to the district."""
    provider = await provider_in_scope(uow, command.by, command.provider_id)
    provider.offboard(command.reason, command.by.subject, command.at)
    await _return_to_district(uow, provider, command)
    await uow.providers.schedule_rescoring(provider.provider_id, None)
    uow.audit(audited(command.by, "offboard", provider.provider_id, command.reason))
    return provider


async def _return_to_district(uow: ReferralUnitOfWork, provider: Provider,
                              command: SuspendProvider | OffboardProvider) -> None:
    await publish_changes(uow, provider)
    referrals = await uow.referrals.open_of_provider(provider.provider_id)
    for referral in district_queue.return_to_district(provider, referrals, command.at):
        await uow.referrals.save(referral)
        uow.publish(*contract_mapping.referral_events(referral.events))
        referral.events.clear()


@dataclass(frozen=True)
class RescoringRound:
    """What a round of the rescoring job did: how many providers it claimed, and those whose score changed."""

    claimed: int
    changed: tuple[str, ...]


async def rescore_due_providers(command: RescoreDueProviders, uow: ReferralUnitOfWork) -> RescoringRound:
    """Re-score the providers due by `command.on`, publish the changed scores, set each one's next day. Run twice
    on the same day, the second round finds nobody due."""
    changed = []
    due = await uow.providers.due_for_rescoring(command.on, command.limit)
    for provider in due:
        rescoring = provider.rescore(command.on, RESCORER, command.at)
        if rescoring is not None and rescoring.changed:
            changed.append(provider.provider_id)
            await publish_changes(uow, provider)
        vetting = provider.current_vetting
        await uow.providers.schedule_rescoring(
            provider.provider_id, None if vetting is None else vetting.next_change_after(command.on))
    return RescoringRound(len(due), tuple(changed))


async def import_service_types(command: ImportServiceTypes,
                               uow: ReferralUnitOfWork) -> tuple[ServiceTypeList, CodeListChange]:
    """A new version of the code list when the rows change it; the list and what changed."""
    await uow.service_types.lock_for_import()
    listed, change = (await uow.service_types.current()).imported(command.rows)
    if change.changes:
        await uow.service_types.save(listed, change, command.by.subject, command.at)
        uow.audit(Access(subject=command.by.subject, role=str(command.by.role), action="import",
                         resource="service_types", resource_ids=(str(listed.version),)))
    return listed, change


async def read_service_types(_command: ReadServiceTypes, uow: ReferralUnitOfWork) -> ServiceTypeList:
    """The code list, retired codes included."""
    return await uow.service_types.current()
