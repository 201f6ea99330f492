"""One suite, three stores: referral's `Deadlines` and `CaseStatuses` repositories on the fake and, through the
migrations, on SQLite and PostgreSQL agree: due rows come earliest first up to the limit, moments keep their
instant whatever their zone, rows move and go; and on PostgreSQL two transactions claiming at once never get the same
row (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from referral.adapters.orm import audit_log, delivery
from referral.bootstrap import MIGRATIONS
from referral.domain.case_status import CaseStatus
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.unit_of_work import ReferralUnitOfWork, SqlReferralUnitOfWork
from simpul_platform.database import Database
from simpul_platform.migrations import upgrade

WIB = dt.timezone(dt.timedelta(hours=7))
AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=WIB)
HOUR = dt.timedelta(hours=1)
NewUow = Callable[[], ReferralUnitOfWork]


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NewUow]:
    """A factory of units of work over one fresh store: the fake, or the SQL one migrated on SQLite or PostgreSQL."""
    if request.param == "fake":
        fake = FakeReferralUnitOfWork()
        yield lambda: fake
        return
    url = (f"sqlite+aiosqlite:///{tmp_path / 'referral.db'}" if request.param == "sqlite"
           else request.getfixturevalue("make_database")("referral"))
    await upgrade(url, MIGRATIONS)
    database = Database(url)
    yield lambda: SqlReferralUnitOfWork(database, delivery, audit_log)
    await database.dispose()


async def schedule(new_uow: NewUow, **due: dt.datetime | None) -> None:
    async with new_uow() as uow:
        for referral_id, at in due.items():
            await uow.deadlines.schedule(referral_id, at)
        await uow.commit()


async def claim(new_uow: NewUow, now: dt.datetime, limit: int = 100) -> list[str]:
    async with new_uow() as uow:
        return await uow.deadlines.claim_due(now, limit)


async def test_due_rows_come_earliest_first_up_to_the_limit_whatever_their_zone(new_uow: NewUow) -> None:
    await schedule(new_uow, late=AT + 2 * HOUR, first=AT.astimezone(dt.UTC), second=AT + HOUR, future=AT + 9 * HOUR)
    assert await claim(new_uow, AT - dt.timedelta(seconds=1)) == []
    assert await claim(new_uow, AT) == ["first"]  # stored in UTC, compared as the same instant
    assert await claim(new_uow, AT + 2 * HOUR) == ["first", "second", "late"]
    assert await claim(new_uow, (AT + 2 * HOUR).astimezone(dt.UTC), limit=2) == ["first", "second"]


async def test_rows_move_and_go_one_at_a_time_or_all_at_once(new_uow: NewUow) -> None:
    await schedule(new_uow, a=AT, b=AT, c=AT)
    await schedule(new_uow, a=AT + 5 * HOUR, b=None)
    assert await claim(new_uow, AT + HOUR) == ["c"]
    async with new_uow() as uow:
        await uow.deadlines.reschedule({"a": None, "c": AT + 2 * HOUR, "d": AT + 3 * HOUR})
        await uow.commit()
    assert await claim(new_uow, AT + 9 * HOUR) == ["c", "d"]


async def test_a_rolled_back_reschedule_leaves_the_rows_as_they_were(new_uow: NewUow) -> None:
    await schedule(new_uow, a=AT)
    async with new_uow() as uow:
        await uow.deadlines.reschedule({"a": None})
    assert await claim(new_uow, AT) == ["a"]


async def test_case_statuses_load_back_in_the_same_instant_and_are_replaced(new_uow: NewUow) -> None:
    closed = CaseStatus("c1", "closed", True, AT)
    async with new_uow() as uow:
        assert await uow.case_statuses.get("c1") is None
        await uow.case_statuses.save([closed, CaseStatus("c2", "monitoring", False, AT)])
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.case_statuses.get("c1") == closed
        await uow.case_statuses.save([CaseStatus("c1", "monitoring", False, AT + HOUR)])
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.case_statuses.get("c1") == CaseStatus("c1", "monitoring", False, AT + HOUR)


@pytest.mark.postgres
async def test_two_transactions_claiming_at_once_never_get_the_same_row(make_database: Callable[[str], str]) -> None:
    url = make_database("referral")
    await upgrade(url, MIGRATIONS)
    database = Database(url)
    try:
        units = lambda: SqlReferralUnitOfWork(database, delivery, audit_log)  # noqa: E731
        await schedule(units, **{f"r{n}": AT + n * dt.timedelta(minutes=1) for n in range(6)})
        async with units() as first:
            held = await first.deadlines.claim_due(AT + HOUR, 4)
            async with units() as second:
                others = await asyncio.wait_for(second.deadlines.claim_due(AT + HOUR, 4), timeout=10)
        assert (held, others) == (["r0", "r1", "r2", "r3"], ["r4", "r5"])
    finally:
        await database.dispose()
