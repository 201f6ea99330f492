"""Every service's migrations drop the outbox's unique index on `event_id` (nothing reads a row by it) and the
downgrade puts it back, on PostgreSQL and on SQLite (where the constraint is unnamed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from identity.bootstrap import MIGRATIONS as IDENTITY
from referral.bootstrap import MIGRATIONS as REFERRAL
from registry.bootstrap import MIGRATIONS as REGISTRY
from reporting.bootstrap import MIGRATIONS as REPORTING
from simpul_platform.migrations import _config

SERVICES = {"registry": REGISTRY, "identity": IDENTITY, "referral": REFERRAL, "reporting": REPORTING}


def _migrate(connection: sa.Connection, migrations: Path, revision: str, down: bool = False) -> None:
    config = _config(migrations, str(connection.engine.url))
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


def _unique_on_event_id(connection: sa.Connection) -> bool:
    inspector = sa.inspect(connection)
    constraints = [c["column_names"] for c in inspector.get_unique_constraints("outbox")]
    indexes = [i["column_names"] for i in inspector.get_indexes("outbox") if i["unique"]]
    return ["event_id"] in constraints + indexes


@pytest.mark.parametrize("service", list(SERVICES))
async def test_the_outbox_event_id_is_not_unique_at_head_and_is_again_after_the_downgrade(
        any_store: Callable[[str], str], service: str) -> None:
    engine = create_async_engine(any_store(service))
    migrations = SERVICES[service]
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, migrations, "head")
            at_head = await connection.run_sync(_unique_on_event_id)
            await connection.run_sync(_migrate, migrations, "-1", True)
            before = await connection.run_sync(_unique_on_event_id)
            await connection.run_sync(_migrate, migrations, "head")
            again = await connection.run_sync(_unique_on_event_id)
    finally:
        await engine.dispose()
    assert (at_head, before, again) == (False, True, False)
