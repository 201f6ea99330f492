"""A test's own outbox relay: running while a block runs, and a wait until it published so many rows."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import Table

from simpul_platform.database import Database
from simpul_platform.relay import OutboxRelay


@contextlib.asynccontextmanager
async def relaying(database: Database, outbox: Table, bootstrap: str, namespace: str) -> AsyncIterator[OutboxRelay]:
    """An OutboxRelay of small batches polling often, running until the block ends."""
    relay = OutboxRelay(database, outbox, bootstrap, batch_size=10, poll_seconds=0.05, topic_namespace=namespace)
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.stop()


async def published(relay: OutboxRelay, count: int) -> None:
    """Wait (at most 10 s) until the relay has published at least `count` rows."""
    for _ in range(200):
        if relay.published >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the relay published {relay.published} of {count}")
