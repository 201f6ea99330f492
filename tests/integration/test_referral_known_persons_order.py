"""Referral's known persons on the fake and, through the migrations, on SQLite and PostgreSQL: a link identity made
before the one held (a replayed dead letter landing after newer links) leaves the newer person, whatever the zone
of the times (issue 13, point 12)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from referral.adapters.orm import audit_log, delivery
from referral.bootstrap import MIGRATIONS
from referral.domain.commands.persons import RecordKnownPersons
from referral.domain.model import KnownPerson
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers.persons import record_known_persons
from referral.service_layer.unit_of_work import ReferralUnitOfWork, SqlReferralUnitOfWork
from simpul_platform.database import Database
from simpul_platform.migrations import upgrade
from simpul_platform.unit_of_work import execute

WIB = dt.timezone(dt.timedelta(hours=7))
T1 = dt.datetime(2026, 11, 30, 15, 0, tzinfo=WIB)
T2 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)  # an hour after T1
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


def linked(person_id: str, at: dt.datetime) -> KnownPerson:
    return KnownPerson("simpul-registry:r-1", person_id, "35.09.11.2007", at)


async def held(new_uow: NewUow) -> KnownPerson | None:
    async with new_uow() as uow:
        return await uow.known_persons.of_record("simpul-registry:r-1")


async def test_a_replayed_older_link_leaves_the_newer_person(new_uow: NewUow) -> None:
    await execute(new_uow(), record_known_persons, RecordKnownPersons((linked("per_new", T2),)))
    await execute(new_uow(), record_known_persons, RecordKnownPersons((linked("per_old", T1),)))
    kept = await held(new_uow)
    assert kept is not None and (kept.person_id, kept.linked_at) == ("per_new", T2)
    await execute(new_uow(), record_known_persons, RecordKnownPersons((linked("per_newer", T2 + dt.timedelta(1)),)))
    kept = await held(new_uow)
    assert kept is not None and kept.person_id == "per_newer"
