"""Look into a service's database directly, as an auditor would; or create a test's own tables."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine

from simpul_platform.database import Database
from simpul_platform.migrations import _config


def migrate(connection: sa.Connection, migrations: Path, revision: str, down: bool = False) -> None:
    """Upgrade (or, `down`, downgrade) a service's database to `revision` on the caller's connection (run_sync)."""
    config = _config(migrations, str(connection.engine.url))
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


async def scalar(url: str, query: Any) -> Any:
    """The single value a query returns, on a short-lived engine."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(query)).scalar_one()
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def created(url: str, metadata: MetaData) -> AsyncIterator[Database]:
    """A Database on `url` with the metadata's tables created, disposed of afterwards."""
    database = Database(url, pool_size=2)
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield database
    finally:
        await database.dispose()
