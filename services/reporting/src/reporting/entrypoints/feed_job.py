"""The monthly publication of the protected feed: a periodic job on every replica, publishing once a month.

Each round tries to claim the current month's slot (`feed_publications`, ON CONFLICT DO NOTHING) in the same
transaction that protects the feed, replaces the ledger and writes the outbox: one replica publishes, the other
finds the slot taken and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from reporting.domain.feed import Protection
from reporting.domain.feed_commands import PublishFeed
from reporting.service_layer.feed_handlers import publish_feed
from reporting.service_layer.unit_of_work import ReportingUnitOfWork
from simpul_platform.runtime import ServiceRuntime
from simpul_platform.unit_of_work import execute


def register(
    runtime: ServiceRuntime,
    unit_of_work: Callable[[], ReportingUnitOfWork],
    clock: Callable[[], dt.datetime],
    protection: Protection,
    every_seconds: float,
) -> None:
    """Check every `every_seconds` whether this month's publication is made; make it when it is not."""

    async def monthly() -> int:
        now = clock()
        command = PublishFeed(f"pub-{uuid.uuid4().hex}", now, protection, slot=f"{now:%Y%m}")
        published: int = await execute(unit_of_work(), publish_feed, command)
        return published

    runtime.every(every_seconds, "feed-monthly-publication", monthly)
