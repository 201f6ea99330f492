"""The purge of expired Idempotency-Keys, registered by bootstrap with `runtime.every(...)`.

Every replica runs it; each round deletes up to a batch of expired keys in one transaction, skipping rows another
replica has locked (`simpul_platform.idempotency`), until none is left. Time is the wiring's clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from referral.config import ReferralSettings
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.idempotency import purge_expired
from simpul_platform.runtime import ServiceRuntime

BATCH = 1000


async def purge(unit_of_work: Callable[[], ReferralUnitOfWork], clock: Callable[[], dt.datetime]) -> int:
    """Rounds of one transaction each until no expired key is left; how many were purged."""
    purged = 0
    while True:
        round_ = await purge_expired(unit_of_work(), clock(), BATCH)
        purged += round_
        if round_ < BATCH:
            return purged


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReferralUnitOfWork],
             clock: Callable[[], dt.datetime], settings: ReferralSettings) -> None:
    """Purge expired keys every `idempotency_purge_seconds` while the service runs."""

    async def purge_job() -> None:
        await purge(unit_of_work, clock)

    runtime.every(settings.idempotency_purge_seconds, "idempotency-key-purge", purge_job)
