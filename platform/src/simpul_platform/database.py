"""One async SQLAlchemy engine per service, on PostgreSQL (asyncpg) or an embedded SQLite file."""

from __future__ import annotations

from typing import Any

import pydantic_core
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from simpul_platform.field_encryption import Keyring, bind_keyring


class Database:
    """The service's store: engine, session factory, health."""

    def __init__(self, url: str, *, pool_size: int = 10, keyring: Keyring | None = None) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # hide_parameters: errors and logs never carry row values. JSON columns are written and read by pydantic's
        # Rust codec, several times faster than the standard library's for the many small documents of a bulk
        # import and of the outbox (the relay reads every event's headers back).
        options: dict[str, Any] = {"hide_parameters": True, "json_serializer": json_text,
                                   "json_deserializer": pydantic_core.from_json}
        if not self.is_sqlite:
            options.update(pool_size=pool_size, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        bind_keyring(self.engine.sync_engine, keyring)  # this service's keys for its encrypted columns
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> AsyncSession:
        """A new session; callers own the transaction (`async with db.session() as s, s.begin(): ...`)."""
        return self.sessions()

    async def ping(self) -> bool:
        """True when the database answers."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("select 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def json_text(value: Any) -> str:
    """A JSON column's text, as the engine writes it (pydantic's Rust codec: compact, UTF-8 unescaped); for
    statements that pass a document as a bound string (a bulk `CAST(:document AS json)`)."""
    return pydantic_core.to_json(value).decode()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets the HTTP handlers, the relay and the consumers share one file without "database is locked".
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
