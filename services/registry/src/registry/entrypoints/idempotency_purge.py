"""The purge of expired Idempotency-Keys (`simpul_platform.idempotency`), registered by bootstrap as a periodic job.

Every replica runs it; each round deletes up to a batch of expired keys in one transaction, skipping rows another
replica has locked, until none is left.
"""

from __future__ import annotations

import datetime as dt

from registry.config import RegistrySettings
from registry.service_layer.unit_of_work import UnitsOfWork
from simpul_platform.idempotency import purge_expired
from simpul_platform.runtime import ServiceRuntime

BATCH = 1000


async def purge(uows: UnitsOfWork, now: dt.datetime | None = None) -> int:
    """Rounds of one transaction each until no key expired at `now` (default: the current time) is left; how many
    were purged."""
    purged = 0
    while True:
        round_ = await purge_expired(uows(), now or dt.datetime.now(dt.UTC), BATCH)
        purged += round_
        if round_ < BATCH:
            return purged


def register(runtime: ServiceRuntime, uows: UnitsOfWork, settings: RegistrySettings) -> None:
    """Purge expired keys every `idempotency_purge_seconds` while the service runs."""

    async def purge_job() -> None:
        await purge(uows)

    runtime.every(settings.idempotency_purge_seconds, "idempotency-key-purge", purge_job)
