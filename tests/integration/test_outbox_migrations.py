"""Every service's migrations of its outbox, both ways, on PostgreSQL and on SQLite: the unique index on `event_id`
goes (nothing reads a row by it; on SQLite the constraint is unnamed) and comes back; the JSON document of headers
becomes the `source` and `dataschema` columns, and comes back as it was."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from identity.bootstrap import MIGRATIONS as IDENTITY
from referral.bootstrap import MIGRATIONS as REFERRAL
from registry.bootstrap import MIGRATIONS as REGISTRY
from reporting.bootstrap import MIGRATIONS as REPORTING
from tests.support.database import migrate

SERVICES = {"registry": REGISTRY, "identity": IDENTITY, "referral": REFERRAL, "reporting": REPORTING}
# Per service: the revision before the unique index went, and the one before the headers became columns.
BEFORE_UNIQUE = {"registry": "0011", "identity": "0006", "referral": "0014", "reporting": "0014"}
BEFORE_COLUMNS = {"registry": "0012", "identity": "0007", "referral": "0015", "reporting": "0015"}
AT = dt.datetime(2026, 12, 4, 5, 30, 0, 123456, tzinfo=dt.UTC)
HEADERS = {"ce_id": "evt-1", "ce_source": "simpul/identity", "ce_type": "id.sprpa.identity.record-linked.v1",
           "ce_specversion": "1.0", "ce_time": AT.isoformat(), "ce_subject": "simpul-registry:chd_1",
           "ce_dataschema": "https://simpul.id/contracts/schemas/id.sprpa.identity.record-linked.v1.json",
           "content-type": "application/json"}


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
            await connection.run_sync(migrate, migrations, "head")
            at_head = await connection.run_sync(_unique_on_event_id)
            await connection.run_sync(migrate, migrations, BEFORE_UNIQUE[service], True)
            before = await connection.run_sync(_unique_on_event_id)
            await connection.run_sync(migrate, migrations, "head")
            again = await connection.run_sync(_unique_on_event_id)
    finally:
        await engine.dispose()
    assert (at_head, before, again) == (False, True, False)


def _insert_with_headers(connection: sa.Connection) -> None:
    insert = sa.text("INSERT INTO outbox (event_id, topic, key, event_type, headers, payload, traceparent, created_at)"
                     " VALUES (:id, 'identity.link.v1', :key, :type, :headers, :payload, NULL, :at)",
                     ).bindparams(sa.bindparam("at", type_=sa.DateTime(timezone=True)))  # stored as the app stores it
    connection.execute(insert, [
        {"id": "evt-1", "key": HEADERS["ce_subject"], "type": HEADERS["ce_type"], "headers": json.dumps(HEADERS),
         "payload": b"{}", "at": AT},
        {"id": "tombstone-1", "key": "simpul-registry:chd_2", "type": "tombstone", "headers": "{}", "payload": b"",
         "at": AT}])


def _rows(connection: sa.Connection) -> list[dict[str, Any]]:
    rows = connection.execute(sa.text("SELECT * FROM outbox ORDER BY seq")).mappings().all()
    return [{name: json.loads(value) if name == "headers" and isinstance(value, str) else value
             for name, value in row.items() if name in {"event_id", "source", "dataschema", "headers"}}
            for row in rows]


@pytest.mark.parametrize("service", list(SERVICES))
async def test_the_headers_document_becomes_columns_and_comes_back(any_store: Callable[[str], str],
                                                                   service: str) -> None:
    engine = create_async_engine(any_store(service))
    migrations = SERVICES[service]
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate, migrations, BEFORE_COLUMNS[service])
            await connection.run_sync(_insert_with_headers)
            await connection.run_sync(migrate, migrations, "head")
            columns = await connection.run_sync(_rows)
            await connection.run_sync(migrate, migrations, BEFORE_COLUMNS[service], True)
            document = await connection.run_sync(_rows)
    finally:
        await engine.dispose()
    assert columns == [
        {"event_id": "evt-1", "source": HEADERS["ce_source"], "dataschema": HEADERS["ce_dataschema"]},
        {"event_id": "tombstone-1", "source": None, "dataschema": None}]
    assert document == [{"event_id": "evt-1", "headers": HEADERS}, {"event_id": "tombstone-1", "headers": {}}]
