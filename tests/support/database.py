"""Look into a service's database directly, as an auditor would."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine


async def scalar(url: str, query: Any) -> Any:
    """The single value a query returns, on a short-lived engine."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(query)).scalar_one()
    finally:
        await engine.dispose()
