"""Use cases of the `deadlines` area (see the package's docstring): the deadline job's round.

Each referral that may still have a deadline has one `deadlines` row: when to look at it next. A round claims the
due rows (locked, skipping those another replica holds), fires what fell due on each referral (overdue, escalated,
expired: `referral.domain.deadlines`), saves it, publishes its events and moves the row to the next due moment, all
in the caller's one transaction: a deadline fires once, however many replicas run the job.
"""

from __future__ import annotations

from dataclasses import dataclass

from referral.adapters.contract_mapping import referral_events
from referral.domain.commands.deadlines import FireDueDeadlines
from referral.domain.deadlines import fire_due, next_due_at
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
    """Fire the deadlines due at the command's `now` on up to `limit` referrals; the caller commits."""
    claimed = await uow.deadlines.claim_due(command.now, command.limit)
    fired: list[str] = []
    for referral_id in claimed:
        referral = await uow.referrals.get(referral_id, for_update=True)
        if referral is None:
            await uow.deadlines.schedule(referral_id, None)
            continue
        deadlines = fire_due(referral, command.policies, command.now)
        if deadlines:
            await uow.referrals.save(referral)
            events, referral.events = referral.events, []
            uow.publish(*referral_events(events))
            fired.extend(deadline.deadline_id for deadline in deadlines)
        await uow.deadlines.schedule(referral_id, next_due_at(referral, command.policies))
    return DeadlineRound(len(claimed), tuple(fired))
