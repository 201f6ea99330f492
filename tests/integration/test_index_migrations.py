"""Migrations that drop indexes no query needs, both ways, on PostgreSQL and on SQLite: the index goes at head and
comes back on the downgrade, and the table's rows stay as they were.

- reporting 0017: record_persons keeps only its primary key (its one read aggregates the whole table);
- referral 0017: referrals loses ix_referrals_provider_id (ix_referrals_provider_change leads with provider_id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from referral.bootstrap import MIGRATIONS as REFERRAL
from reporting.bootstrap import MIGRATIONS as REPORTING
from tests.support.database import migrate


@dataclass(frozen=True)
class Drop:
    """One migration's dropped indexes: the table, the revision before, the indexed columns before and at head."""

    migrations: Path
    table: str
    before: str
    indexed_before: list[list[str]]
    indexed_at_head: list[list[str]]
    row: str  # an INSERT of one row, to show the rows stay


DROPS = {
    "reporting record_persons": Drop(
        REPORTING, "record_persons", "0016", [["person_id"], ["village_code"]], [],
        "INSERT INTO record_persons VALUES ('simpul-registry:chd_1', 'per_1', '33.74.12.1001', "
        "'2026-12-04 22:30:00+00:00')"),
    "referral referrals": Drop(
        REFERRAL, "referrals", "0016",
        [["child_id"], ["district", "status"], ["person_id"], ["previous_referral_id"], ["provider_id"],
         ["provider_id", "change_xid", "change_seq"]],
        [["child_id"], ["district", "status"], ["person_id"], ["previous_referral_id"],
         ["provider_id", "change_xid", "change_seq"]],
        "INSERT INTO referrals (referral_id, child_id, person_id, provider_id, district, status, is_open, "
        "issued_at, version, updated_at, document) VALUES ('ref_1', 'chd_1', 'per_1', 'prv_1', '33.74', 'issued', "
        "TRUE, '2026-12-04 22:30:00+00:00', 1, '2026-12-04 22:30:00+00:00', '{}')"),
}


def _indexed(connection: sa.Connection, table: str) -> list[list[str | None]]:
    return sorted(index["column_names"] for index in sa.inspect(connection).get_indexes(table))


def _count(connection: sa.Connection, table: str) -> int:
    return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.mark.parametrize("name", list(DROPS))
async def test_an_unneeded_index_goes_at_head_and_comes_back_on_the_downgrade(any_store: Callable[[str], str],
                                                                              name: str) -> None:
    drop = DROPS[name]
    engine = create_async_engine(any_store(name.split(maxsplit=1)[0]))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate, drop.migrations, drop.before)
            before = await connection.run_sync(_indexed, drop.table)
            await connection.execute(sa.text(drop.row))
            await connection.run_sync(migrate, drop.migrations, "head")
            at_head = await connection.run_sync(_indexed, drop.table)
            rows_at_head = await connection.run_sync(_count, drop.table)
            await connection.run_sync(migrate, drop.migrations, drop.before, True)
            again = await connection.run_sync(_indexed, drop.table)
            rows_after = await connection.run_sync(_count, drop.table)
    finally:
        await engine.dispose()
    assert before == again == drop.indexed_before
    assert at_head == drop.indexed_at_head
    assert rows_at_head == rows_after == 1
