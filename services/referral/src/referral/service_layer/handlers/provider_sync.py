"""Use cases of the `provider_sync` area: a provider (role `provider`, scope its one provider id) lists and syncs its
own referrals by change position (lossless: see `referral.adapters.provider_sync_repository`), reads one with the
child's minimal details (never NIK or KK; both reads audited), and sets its own capacity status.

The lifecycle moves (acknowledge, accept, decline, start, complete) are the `referrals` area's handlers, which
already keep a provider to its own referrals (another provider's referral is not found).
"""

from __future__ import annotations

from dataclasses import dataclass

from referral.adapters.provider_sync_repository import ChangedReferral
from referral.domain.child_details import ChildDetails
from referral.domain.commands.provider_sync import (
    ListProviderReferrals,
    ReadProviderReferral,
    SetOwnCapacity,
    SyncPosition,
)
from referral.domain.commands.referrals import ReadReferral
from referral.domain.errors import Forbidden, NotFound
from referral.domain.providers import Provider
from referral.domain.referrals import Referral
from referral.service_layer.handlers import directory, referrals
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.callers import Caller
from simpul_platform.unit_of_work import Access


@dataclass(frozen=True)
class ProviderReferralPage:
    """One page of the provider's change stream: the referrals (latest version each, in change order), the position
    to resume from (the last one served, or where the sync stood), and whether more changes are ready now."""

    items: tuple[ChangedReferral, ...]
    next: SyncPosition
    more: bool


@dataclass(frozen=True)
class ProviderReferral:
    """A referral and its child's minimal details (None once consent is withdrawn or the retention is over)."""

    referral: Referral
    child: ChildDetails | None


def own_provider(by: Caller) -> str:
    """The one provider a provider token acts for; forbidden for any other caller."""
    if str(by.role) != referrals.PROVIDER_ROLE or len(by.scope) != 1:
        raise Forbidden("role", "only a provider's token, scoped to that provider, may do this")
    return str(by.scope[0])


async def list_provider_referrals(command: ListProviderReferrals, uow: ReferralUnitOfWork) -> ProviderReferralPage:
    """The provider's referrals changed after the command's position, in change order; every one shown audited."""
    provider_id = own_provider(command.by)
    start = command.after or SyncPosition()
    since = None if command.after is not None else command.updated_since
    found = await uow.provider_changes.after(provider_id, start, since, command.limit + 1)
    items = tuple(found[:command.limit])
    if items:
        uow.audit(referrals.access(command.by, "sync", [c.referral.referral_id for c in items]))
    return ProviderReferralPage(items, items[-1].position if items else start, len(found) > command.limit)


async def read_provider_referral(command: ReadProviderReferral, uow: ReferralUnitOfWork) -> ProviderReferral:
    """One of the provider's referrals (another provider's is not found) with the child's minimal details."""
    own_provider(command.by)
    referral = await referrals.read_referral(ReadReferral(command.by, command.referral_id, command.reason), uow)
    child_id = referral.request.child_id
    details = await uow.child_details.details_of(child_id)
    if details is not None:
        uow.audit(Access(subject=command.by.subject, role=str(command.by.role), action="read_child_details",
                         resource="child", resource_ids=(child_id,), reason=command.reason))
    return ProviderReferral(referral, details)


async def set_own_capacity(command: SetOwnCapacity, uow: ReferralUnitOfWork) -> Provider:
    """The provider's own capacity status, announced and audited as the directory does."""
    provider_id = own_provider(command.by)
    provider = await uow.providers.get(provider_id, for_update=True)
    if provider is None:
        raise NotFound("provider_id", "no such provider")
    provider.set_capacity(command.capacity, command.by.subject, command.at)
    await directory.publish_changes(uow, provider)
    uow.audit(directory.audited(command.by, "set_capacity", provider_id))
    return provider
