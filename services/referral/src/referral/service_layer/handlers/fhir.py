"""Use cases of the `fhir` area: what the FHIR façade asks beyond reads (`referrals.read_referral`).

- `search_provider_referrals`: the provider's referrals by status and last save, in the order of the provider sync's
  lossless change stream (`referral.adapters.provider_sync_repository`), a page after a position, with the number
  of matches in all (FHIR's `Bundle.total`); only the page shown is audited.
- `change_referral_status`: the moves a Task update asks for, each through its referrals-area handler, in one
  transaction (a Gravity accept or reject of a referral still issued acknowledges it first).
"""

from __future__ import annotations

from dataclasses import dataclass

from referral.adapters.provider_sync_repository import ChangedReferral
from referral.domain.commands.fhir import ChangeReferralStatus, Move, SearchProviderReferrals
from referral.domain.commands.provider_sync import SyncPosition
from referral.domain.commands.referrals import (
    AcceptReferral,
    AcknowledgeReferral,
    CompleteReferral,
    DeclineReferral,
    ReadReferral,
    StartService,
)
from referral.domain.lifecycle import DeclineReason
from referral.domain.referrals import Referral
from referral.service_layer.handlers import referrals
from referral.service_layer.handlers.provider_sync import own_provider
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.errors import Stale


@dataclass(frozen=True)
class SearchPage:
    """A page of matches, where the next page starts, whether there is one, and how many match in all (None when
    more than the command's `count_up_to`)."""

    referrals: tuple[Referral, ...]
    next: SyncPosition
    more: bool
    total: int | None


async def search_provider_referrals(command: SearchProviderReferrals, uow: ReferralUnitOfWork) -> SearchPage:
    """One read of the provider's stream from its start (below the sync's watermark), filtered: the page is the
    matches after the command's position, the total all matches. A stream longer than `count_up_to` is read from
    the position on instead, a window of `count_up_to` at a time, and has no total."""
    provider_id = own_provider(command.by)
    start = command.after or SyncPosition()
    whole = await uow.provider_changes.after(provider_id, SyncPosition(), command.updated_since,
                                             command.count_up_to + 1)
    if len(whole) <= command.count_up_to:
        matches = _matching(command, whole)
        following = [c for c in matches if c.position > start]
        return _shown(command, uow, following, start, len(matches))
    window = await uow.provider_changes.after(provider_id, start, command.updated_since, command.count_up_to)
    page = _shown(command, uow, _matching(command, window), start, None)
    if page.more or len(window) < command.count_up_to:
        return page
    return SearchPage(page.referrals, window[-1].position, True, None)  # resume after the window read


def _matching(command: SearchProviderReferrals, stream: list[ChangedReferral]) -> list[ChangedReferral]:
    return [c for c in stream if command.statuses is None or c.referral.status in command.statuses]


def _shown(command: SearchProviderReferrals, uow: ReferralUnitOfWork, following: list[ChangedReferral],
           start: SyncPosition, total: int | None) -> SearchPage:
    """The first `limit` of the matches after the position, audited."""
    page = following[:command.limit]
    if page:
        uow.audit(referrals.access(command.by, "search", [c.referral.referral_id for c in page]))
    return SearchPage(tuple(c.referral for c in page), page[-1].position if page else start,
                      len(following) > command.limit, total)


async def change_referral_status(command: ChangeReferralStatus, uow: ReferralUnitOfWork) -> Referral:
    """Read the referral in the provider's scope (audited), ask `change_of` for the moves, take them in order."""
    referral = await referrals.read_referral(ReadReferral(command.by, command.referral_id), uow)
    change = command.change_of(referral)
    if not change.moves and command.expected_version not in (None, referral.version):
        raise Stale("If-Match", "the referral changed since you read it")
    version = command.expected_version
    for move in change.moves:
        referral = await _take(move, command, version, change.decline_reason, uow)
        version = None  # the later steps follow the first in this transaction
    return referral


async def _take(move: Move, command: ChangeReferralStatus, version: int | None, reason: DeclineReason | None,
                uow: ReferralUnitOfWork) -> Referral:
    by, referral_id, at = command.by, command.referral_id, command.at
    if move is Move.ACKNOWLEDGE:
        return await referrals.acknowledge_referral(AcknowledgeReferral(by, referral_id, at, version), uow)
    if move is Move.ACCEPT:
        return await referrals.accept_referral(AcceptReferral(by, referral_id, at, version), uow)
    if move is Move.DECLINE:
        assert reason is not None  # a StatusChange names the reason of every decline
        return await referrals.decline_referral(DeclineReferral(by, referral_id, at, version, reason=reason), uow)
    if move is Move.START:
        return await referrals.start_service(StartService(by, referral_id, at, version), uow)
    return await referrals.complete_referral(CompleteReferral(by, referral_id, at, version), uow)
