"""At most one publishing relay per outbox, so that one key's events reach Kafka in commit order.

On PostgreSQL the active relay holds a session-level advisory lock on a dedicated connection; other relays stand by
and try again every few seconds. The lock belongs to the connection, so when the active process dies its connection
closes and a standby takes over. SQLite is one process's embedded store: no lock is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from simpul_platform.database import Database

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for `name` (Python's own hash differs per process)."""
    digest = hashlib.blake2b(f"simpul outbox publisher:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PublisherLock:
    """The right to publish one outbox; `held()` waits for it and yields the connection that holds it."""

    def __init__(self, database: Database, name: str, *, standby_seconds: float) -> None:
        """`name`: the outbox table (advisory locks are per database, so its name identifies the outbox)."""
        self.database = database
        self.name = name
        self.key = lock_key(name)
        self.standby_seconds = standby_seconds

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[AsyncConnection]:
        """Stand by until this process may publish; the yielded connection must stay open while it does."""
        connection = await self.database.engine.connect()
        try:
            if not self.database.is_sqlite:
                await self._acquire(connection)
            yield connection
        finally:
            # Never back to the pool with the lock still held: the connection is discarded, which releases it.
            await connection.invalidate()
            await connection.close()

    async def _acquire(self, connection: AsyncConnection) -> None:
        standing_by = False
        while not await self._try(connection):
            if not standing_by:
                log.info("outbox relay: standing by, another relay publishes %s", self.name)
                standing_by = True
            await asyncio.sleep(self.standby_seconds)
        if standing_by:
            log.info("outbox relay: took over publishing %s (the active relay stopped)", self.name)
        else:
            log.info("outbox relay: publishing %s (holds the publisher lock)", self.name)

    async def _try(self, connection: AsyncConnection) -> bool:
        result = await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
        await connection.commit()  # session-level: the lock outlives this transaction
        return bool(result.scalar_one())
