"""Use cases of the `child_details` area (see the package's docstring): keep the registry's minimal details of a
child while consent holds, forget them on withdrawal or after the retention (or for good on the registry's erasure,
which also revokes the child's open referrals), and let a district officer read them, audited. The provider API
reuses `read_child_details` with its own scope rule."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from referral.domain.child_details import (
    ChildDetails,
    ChildDetailsNotFound,
    Held,
    Withdrawal,
    erasable,
    latest_per_child,
)
from referral.domain.child_erasure import ERASURE_REVOCATION, erase_free_texts
from referral.domain.commands.child_details import (
    EraseChildrenDetails,
    EraseExpiredChildDetails,
    KeepChildDetails,
    ReadChildDetails,
    WithdrawChildDetails,
)
from referral.domain.district_queue import revoke_open
from referral.domain.errors import Forbidden
from referral.domain.referrals import Referral
from referral.service_layer.handlers.referrals import save_and_publish
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.unit_of_work import Access

READERS = frozenset({"district_officer"})
"""Who may read a child's minimal details here: district officers of the child's district (providers: next issue)."""
SYSTEM = "system"


@dataclass(frozen=True)
class ErasureRound:
    """What one round of the erasure job did: children looked at, and those whose details it erased."""

    looked_at: int
    erased: tuple[str, ...]


async def keep_child_details(command: KeepChildDetails, uow: ReferralUnitOfWork) -> None:
    """Hold each child's newest details, unless what is held (details or a withdrawal) is newer."""
    latest = latest_per_child(command.versions)
    held = await uow.child_details.held(latest)
    for child_id, details in latest.items():
        if child_id not in held or held[child_id].superseded_by(details.as_of):
            await uow.child_details.keep(details, review_at=command.received_at)


async def withdraw_child_details(command: WithdrawChildDetails, uow: ReferralUnitOfWork) -> None:
    """Forget the details recorded before each withdrawal; a withdrawal older than what is held changes nothing."""
    latest = latest_per_child(command.withdrawals)
    held = await uow.child_details.held(latest)
    for child_id, withdrawal in latest.items():
        if child_id not in held or held[child_id].superseded_by(withdrawal.as_of):
            await uow.child_details.withdraw(withdrawal)


async def erase_children_details(command: EraseChildrenDetails, uow: ReferralUnitOfWork) -> None:
    """The registry erased the children: forget their details whatever is held, and keep the later of the erasure's
    moment and the one held, so no details event from before the erasure brings them back (ADR 0004)."""
    held = await uow.child_details.held({erasure.child_id for erasure in command.erasures})
    for erasure, reason in zip(command.erasures, command.reasons, strict=True):
        await _erase_referrals(uow, await uow.referrals.of_child(erasure.child_id), reason, command.at)
        before = held.get(erasure.child_id)
        as_of = max(erasure.as_of, before.as_of) if before else erasure.as_of
        await uow.child_details.withdraw(Withdrawal(erasure.child_id, as_of))
        held[erasure.child_id] = Held(erasure.child_id, as_of, None)
        uow.audit(Access(subject=SYSTEM, role="service", action="erase_child_details", resource="child",
                         resource_ids=(erasure.child_id,), reason=f"registry erasure: {reason}"))


async def _erase_referrals(uow: ReferralUnitOfWork, referrals: list[Referral], reason: str, at: dt.datetime) -> None:
    """Replace the referrals' free texts and revoke the open ones (their providers are told), one save each; the
    revocations are audited with the erasure's reason code. A redelivered erasure finds nothing left to change."""
    texts_erased = {referral.referral_id for referral in referrals if erase_free_texts(referral)}
    revoked = tuple(referral.referral_id for referral in revoke_open(referrals, ERASURE_REVOCATION, at))
    await save_and_publish(uow, [r for r in referrals if r.referral_id in texts_erased.union(revoked)])
    if revoked:
        uow.audit(Access(subject=SYSTEM, role="service", action="revoke", resource="referral",
                         resource_ids=revoked, reason=f"registry erasure: {reason}"))


async def erase_expired_child_details(command: EraseExpiredChildDetails, uow: ReferralUnitOfWork) -> ErasureRound:
    """Erase the details of children whose last referral closed at least the retention ago."""
    erased: list[str] = []
    due = await uow.child_details.due_for_review(command.now, command.limit)
    for child_id in due:
        closed_since = await uow.referrals.closed_since(child_id)
        if erasable(closed_since, command.now, command.retention):
            if await uow.child_details.erase(child_id):  # not already gone (another replica, a withdrawal)
                erased.append(child_id)
        else:
            look_again = closed_since + command.retention if closed_since else command.now + command.recheck
            await uow.child_details.review_at(child_id, look_again)
    if erased:
        uow.audit(Access(subject=SYSTEM, role="service", action="erase_child_details", resource="child",
                         resource_ids=tuple(erased), reason="retention after the last referral closed"))
    return ErasureRound(len(due), tuple(erased))


async def read_child_details(command: ReadChildDetails, uow: ReferralUnitOfWork) -> ChildDetails:
    """The child's minimal details for a district officer of the child's district; the read is audited."""
    by = command.by
    if str(by.role) not in READERS:
        raise Forbidden("role", "only district officers read a child's minimal details here")
    details = await uow.child_details.details_of(command.child_id)
    if details is None or not by.covers_region(details.village_code):
        raise ChildDetailsNotFound
    uow.audit(Access(subject=by.subject, role=str(by.role), action="read_child_details", resource="child",
                     resource_ids=(command.child_id,), reason=command.reason))
    return details
