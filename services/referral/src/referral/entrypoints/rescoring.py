"""The rescoring job, registered by bootstrap with `runtime.every(...)`: providers whose current vetting has a
document that starts or stops counting today are re-scored, and a changed score is published (ProviderRescoredV1).

Every replica runs it; each round claims the due providers `FOR UPDATE SKIP LOCKED` in the transaction that
re-scores them and publishes the change, and moves their next re-scoring day past today, so a second round (or a
second replica) on the same day changes nothing. The day is the wiring's clock's (tests control it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from referral.config import ReferralSettings
from referral.domain.commands.directory import RescoreDueProviders
from referral.service_layer.handlers.directory import rescore_due_providers
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.runtime import ServiceRuntime
from simpul_platform.unit_of_work import execute

Clock = Callable[[], dt.datetime]


async def rescore_providers(unit_of_work: Callable[[], ReferralUnitOfWork], clock: Clock,
                            batch_size: int) -> list[str]:
    """Rounds of one transaction each until nobody due is left; the providers whose score changed."""
    changed: list[str] = []
    while True:
        now = clock()
        round_ = await execute(unit_of_work(), rescore_due_providers, RescoreDueProviders(now.date(), now, batch_size))
        changed.extend(round_.changed)
        if round_.claimed < batch_size:
            return changed


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReferralUnitOfWork], clock: Clock,
             settings: ReferralSettings) -> None:
    """Run the rescoring job every `rescoring_job_seconds` while the service runs."""

    async def rescoring() -> None:
        await rescore_providers(unit_of_work, clock, settings.rescoring_batch_size)

    runtime.every(settings.rescoring_job_seconds, "provider-rescoring", rescoring)
