"""The erasure job of the minimal child details, registered by bootstrap with `runtime.every(...)`.

Every replica runs it; each round claims the children due for a look `FOR UPDATE SKIP LOCKED` in the transaction
that erases their details (`handlers.child_details`), so two replicas never look at one child at once. Time is the
wiring's clock (tests control it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from referral.config import ReferralSettings
from referral.domain.commands.child_details import EraseExpiredChildDetails
from referral.service_layer.handlers.child_details import erase_expired_child_details
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.runtime import ServiceRuntime
from simpul_platform.unit_of_work import execute

BATCH = 500


async def erase_expired(unit_of_work: Callable[[], ReferralUnitOfWork], clock: Callable[[], dt.datetime],
                        settings: ReferralSettings) -> int:
    """Rounds of one transaction each until no child is due; how many children's details went."""
    retention = dt.timedelta(days=settings.child_details_retention_days)
    recheck = dt.timedelta(seconds=settings.child_details_recheck_seconds)
    erased = 0
    while True:
        command = EraseExpiredChildDetails(clock(), retention, recheck, BATCH)
        round_ = await execute(unit_of_work(), erase_expired_child_details, command)
        erased += len(round_.erased)
        if round_.looked_at < BATCH:
            return erased


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReferralUnitOfWork],
             clock: Callable[[], dt.datetime], settings: ReferralSettings) -> None:
    """Run the erasure job every `child_details_erasure_seconds` while the service runs."""

    async def erasure() -> None:
        await erase_expired(unit_of_work, clock, settings)

    runtime.every(settings.child_details_erasure_seconds, "child-details-erasure", erasure)
