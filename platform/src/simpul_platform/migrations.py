"""Alembic, driven from code: each service's migrations/env.py calls `run_env`, startup calls `upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine


def _config(script_location: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade_connection(connection: Connection, script_location: Path) -> None:
    """Upgrade to head on an open (sync) connection: used inside the async engine's run_sync."""
    config = _config(script_location, str(connection.engine.url))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(url: str, script_location: Path) -> None:
    """Bring a database to the newest revision."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_connection, script_location)
    finally:
        await engine.dispose()


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's env.py: online on the connection handed over, or offline as SQL."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:
        context.configure(
            url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True
        )
    else:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
