"""How to reach a PostgreSQL server (ours or a given one), and creating/dropping databases on it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import asyncpg

from simpul_infra.blocking import run_blocking

SUPERUSER = "postgres"
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class PostgresServer:
    """Connection details of a PostgreSQL server; `data_dir` is set only for clusters this package runs."""

    host: str
    port: int
    user: str = SUPERUSER
    password: str | None = None
    admin_database: str = "postgres"
    data_dir: Path | None = None

    @classmethod
    def from_url(cls, url: str) -> PostgresServer:
        """Parse an admin URL such as postgresql://user:pw@host:5432/postgres (any +driver suffix is ignored)."""
        parts = urlsplit(url)
        if not parts.scheme.startswith("postgres") or not parts.hostname:
            raise ValueError(f"not a PostgreSQL URL with a host: {url!r}")
        return cls(
            host=parts.hostname, port=parts.port or 5432, user=unquote(parts.username or SUPERUSER),
            password=unquote(parts.password) if parts.password is not None else None,
            admin_database=parts.path.lstrip("/") or "postgres",
        )

    def url(self, database: str | None = None, driver: str = "postgresql+asyncpg") -> str:
        """A SQLAlchemy-style URL for `database` (default: the admin database)."""
        auth = quote(self.user, safe="")
        if self.password is not None:
            auth += ":" + quote(self.password, safe="")
        return f"{driver}://{auth}@{self.host}:{self.port}/{database or self.admin_database}"

    async def _connect(self) -> Any:
        return await asyncpg.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                                     database=self.admin_database, timeout=30)

    async def _create(self, name: str) -> bool:
        conn = await self._connect()
        try:
            if await conn.fetchval("select 1 from pg_database where datname = $1", name):
                return False
            try:
                await conn.execute(f'create database "{name}"')
            except asyncpg.DuplicateDatabaseError:  # created concurrently: same outcome
                return False
            return True
        finally:
            await conn.close()

    async def _drop(self, name: str) -> bool:
        conn = await self._connect()
        try:
            existed = bool(await conn.fetchval("select 1 from pg_database where datname = $1", name))
            # FORCE: a test that leaked a connection must not keep its database alive.
            await conn.execute(f'drop database if exists "{name}" with (force)')
            return existed
        finally:
            await conn.close()

    def create_database(self, name: str) -> bool:
        """Create database `name` unless it exists; return whether it was created."""
        return run_blocking(self._create(_checked(name)))

    def drop_database(self, name: str) -> bool:
        """Drop database `name` (disconnecting its sessions) if it exists; return whether it existed."""
        return run_blocking(self._drop(_checked(name)))


def _checked(name: str) -> str:
    if not _DB_NAME.match(name):
        raise ValueError(f"database name {name!r} must be lower-case letters, digits and '_' (at most 63)")
    return name
