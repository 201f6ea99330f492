"""Referral's periodic jobs, registered by bootstrap with `runtime.every(...)`: the deadline job.

Every replica runs it; each round claims its due rows `FOR UPDATE SKIP LOCKED` in the transaction that fires them
(`handlers.deadlines`), so each deadline fires once. Time is the wiring's clock (tests control it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from referral.config import ReferralSettings
from referral.domain.commands.deadlines import FireDueDeadlines
from referral.domain.deadlines import DeadlinePolicies, DeadlinePolicy
from referral.service_layer.handlers.deadlines import fire_due_deadlines
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.runtime import ServiceRuntime
from simpul_platform.unit_of_work import execute

Clock = Callable[[], dt.datetime]


def deadline_policies(settings: ReferralSettings) -> DeadlinePolicies:
    """The configured response deadlines: the default and those per service type."""
    def policy(acknowledge: float, answer: float, expire: float) -> DeadlinePolicy:
        return DeadlinePolicy(dt.timedelta(days=acknowledge), dt.timedelta(days=answer), dt.timedelta(days=expire))
    default = policy(settings.deadline_acknowledge_days, settings.deadline_answer_days, settings.deadline_expire_days)
    return DeadlinePolicies(default, {code: policy(*days) for code, days in settings.deadlines_by_service_type.items()})


async def fire_deadlines(unit_of_work: Callable[[], ReferralUnitOfWork], clock: Clock, policies: DeadlinePolicies,
                         batch_size: int) -> list[str]:
    """Rounds of one transaction each until nothing due is left; the ids of the deadlines that fired."""
    fired: list[str] = []
    while True:
        command = FireDueDeadlines(clock(), policies, batch_size)
        round_ = await execute(unit_of_work(), fire_due_deadlines, command)
        fired.extend(round_.fired)
        if round_.claimed < batch_size:
            return fired


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReferralUnitOfWork], clock: Clock,
             settings: ReferralSettings) -> None:
    """Run the deadline job every `deadline_job_seconds` while the service runs."""
    policies = deadline_policies(settings)

    async def deadlines() -> None:
        await fire_deadlines(unit_of_work, clock, policies, settings.deadline_batch_size)

    runtime.every(settings.deadline_job_seconds, "deadlines", deadlines)
