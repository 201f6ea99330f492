"""Response deadlines: when an unanswered referral is overdue, escalated to the district queue, then expired.

Per service type and configurable; the defaults: acknowledge within 3 days, accept or decline within 7, expire after
14 without an answer, all counted from the issue. A referral of several services takes the strictest of their
policies, field by field. Four deadlines per referral, each with a stable id (`<referral id>/<kind>`) so a scheduler
can record that it fired and two replicas fire it exactly once:
- `acknowledge`: overdue if still issued (not acknowledged);
- `answer`: overdue if still unanswered (issued or acknowledged);
- `escalation`: at the answer deadline, the unanswered referral goes to the district queue;
- `expiry`: the unanswered referral expires.
Time is always passed in (`now`): the clock is the caller's, so tests control it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from referral.domain.errors import require, require_aware
from referral.domain.lifecycle import AWAITING_ANSWER, ReferralStatus
from referral.domain.referrals import Referral

Clock = Callable[[], dt.datetime]
"""Where the current time comes from (injected; the domain never reads the system clock)."""


class DeadlineKind(enum.StrEnum):
    """Which deadline of a referral."""

    ACKNOWLEDGE = "acknowledge"
    ANSWER = "answer"
    ESCALATION = "escalation"
    EXPIRY = "expiry"


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long a provider has for each answer, counted from the issue."""

    acknowledge_within: dt.timedelta = dt.timedelta(days=3)
    answer_within: dt.timedelta = dt.timedelta(days=7)
    expire_after: dt.timedelta = dt.timedelta(days=14)

    def __post_init__(self) -> None:
        require(dt.timedelta(0) < self.acknowledge_within <= self.answer_within <= self.expire_after,
                "deadlines", "needs 0 < acknowledge within <= answer within <= expire after")


@dataclass(frozen=True)
class DeadlinePolicies:
    """The default policy and those set per service type."""

    default: DeadlinePolicy = DeadlinePolicy()
    by_service_type: Mapping[str, DeadlinePolicy] = field(default_factory=dict)

    def for_service_types(self, service_types: Iterable[str]) -> DeadlinePolicy:
        """The strictest policy of the service types, field by field (the default for a type without one)."""
        policies = [self.by_service_type.get(code, self.default) for code in service_types] or [self.default]
        return DeadlinePolicy(min(p.acknowledge_within for p in policies), min(p.answer_within for p in policies),
                              min(p.expire_after for p in policies))


@dataclass(frozen=True)
class Deadline:
    """One deadline of one referral."""

    deadline_id: str
    referral_id: str
    kind: DeadlineKind
    due_at: dt.datetime


def deadline_id(referral: Referral, kind: DeadlineKind) -> str:
    """The stable id of one deadline of a referral."""
    return f"{referral.referral_id}/{kind}"


def escalated(referral: Referral) -> bool:
    """Whether the escalation deadline fired on the referral."""
    return deadline_id(referral, DeadlineKind.ESCALATION) in referral.fired_deadlines


def schedule(referral: Referral, policies: DeadlinePolicies) -> list[Deadline]:
    """The referral's four deadlines, in the order they fall due."""
    policy = policies.for_service_types(referral.request.service_types)
    offsets = ((DeadlineKind.ACKNOWLEDGE, policy.acknowledge_within), (DeadlineKind.ANSWER, policy.answer_within),
               (DeadlineKind.ESCALATION, policy.answer_within), (DeadlineKind.EXPIRY, policy.expire_after))
    return [Deadline(deadline_id(referral, kind), referral.referral_id, kind, referral.issued_at + offset)
            for kind, offset in offsets]


def applies(referral: Referral, deadline: Deadline) -> bool:
    """Whether the deadline still means something: not fired, and the answer it waits for has not come."""
    if deadline.deadline_id in referral.fired_deadlines:
        return False
    if deadline.kind is DeadlineKind.ACKNOWLEDGE:
        return referral.status is ReferralStatus.ISSUED
    return referral.status in AWAITING_ANSWER


def due(referral: Referral, policies: DeadlinePolicies, now: dt.datetime) -> list[Deadline]:
    """The deadlines due at `now` and not yet fired, in the order they fell due."""
    require_aware(now, "now")
    return [deadline for deadline in schedule(referral, policies)
            if deadline.due_at <= now and applies(referral, deadline)]


def next_due_at(referral: Referral, policies: DeadlinePolicies) -> dt.datetime | None:
    """When the scheduler should look at the referral next; None when no deadline is left."""
    return min((d.due_at for d in schedule(referral, policies) if applies(referral, d)), default=None)


def fire(referral: Referral, deadline: Deadline, now: dt.datetime) -> bool:
    """Fire one deadline on the referral if it still applies; whether it fired (a second call does nothing)."""
    if not applies(referral, deadline):
        return False
    if deadline.kind is DeadlineKind.ESCALATION:
        return referral.escalate(deadline.deadline_id, deadline.due_at, now)
    if deadline.kind is DeadlineKind.EXPIRY:
        return referral.expire(deadline.deadline_id, now)
    return referral.mark_overdue(deadline.deadline_id, deadline.kind, deadline.due_at, now)


def fire_due(referral: Referral, policies: DeadlinePolicies, now: dt.datetime) -> list[Deadline]:
    """Fire every deadline due at `now`, in order; the ones that fired (each exactly once over repeated calls)."""
    return [deadline for deadline in due(referral, policies, now) if fire(referral, deadline, now)]
