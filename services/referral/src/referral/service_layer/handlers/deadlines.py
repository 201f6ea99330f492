"""Use cases of the `deadlines` area (see the package's docstring): the deadline job's round.

Each referral that may still have a deadline has one `deadlines` row: when to look at it next. A round claims the
due rows (locked, skipping those another replica holds), fires what fell due on each referral (overdue, escalated,
expired: `referral.domain.deadlines`), saves it, publishes its events and moves the row to the next due moment, all
in the caller's one transaction: a deadline fires once, however many replicas run the job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from referral.adapters.contract_mapping import referral_events
from referral.domain.commands.deadlines import FireDueDeadlines
from referral.domain.deadlines import due, fire_due, next_due_at
from referral.domain.referrals import Referral
from referral.service_layer.unit_of_work import ReferralUnitOfWork


@dataclass(frozen=True)
class DeadlineRound:
    """What one round did: how many referrals it claimed, and the ids of the deadlines that fired."""

    claimed: int
    fired: tuple[str, ...]


async def watch_deadlines(referral: Referral, uow: ReferralUnitOfWork) -> None:
    """Have the deadline job look at a referral just issued (in the transaction that issues it).

    The first look is at the issue: the job then knows the policies in force and moves the row to the first
    deadline, so issuing needs no policy.
    """
    await uow.deadlines.schedule(referral.referral_id, referral.issued_at)


async def fire_due_deadlines(command: FireDueDeadlines, uow: ReferralUnitOfWork) -> DeadlineRound:
    """Fire the deadlines due at the command's `now` on up to `limit` referrals; the caller commits.

    A referral is locked only when a deadline of it is due: a first look, or one at a referral answered meanwhile,
    reads it and moves on. A state read without the lock can only be older, so it can only bring the next look
    earlier (a status never goes back to awaiting an answer): never a missed deadline.
    """
    claimed = await uow.deadlines.claim_due(command.now, command.limit)
    next_looks: dict[str, dt.datetime | None] = {}
    fired: list[str] = []
    for referral_id in claimed:
        referral = await uow.referrals.get(referral_id)
        if referral is not None and due(referral, command.policies, command.now):
            referral = await uow.referrals.get(referral_id, for_update=True)
            fired.extend(await _fire(referral, command, uow) if referral else ())
        next_looks[referral_id] = next_due_at(referral, command.policies) if referral else None
    await uow.deadlines.reschedule(next_looks)
    return DeadlineRound(len(claimed), tuple(fired))


async def _fire(referral: Referral, command: FireDueDeadlines, uow: ReferralUnitOfWork) -> list[str]:
    deadlines = fire_due(referral, command.policies, command.now)
    if deadlines:
        await uow.referrals.save(referral)
        events, referral.events = referral.events, []
        uow.publish(*referral_events(events))
    return [deadline.deadline_id for deadline in deadlines]
