"""Referral's known persons on the fake and, through the migrations, on SQLite and PostgreSQL: a link identity made
before the one held (a replayed dead letter landing after newer links) leaves the newer person, whatever the zone
of the times (issue 13, point 12)."""

from __future__ import annotations

import datetime as dt

from referral.domain.commands.persons import RecordKnownPersons
from referral.domain.model import KnownPerson
from referral.service_layer.handlers.persons import record_known_persons
from simpul_platform.unit_of_work import execute
from tests.integration import test_referral_deadlines_repository as stores
from tests.integration.test_referral_deadlines_repository import NewUow

WIB = dt.timezone(dt.timedelta(hours=7))
T1 = dt.datetime(2026, 11, 30, 15, 0, tzinfo=WIB)
T2 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)  # an hour after T1


# The same three stores as the deadlines suite: the fake, and the SQL unit of work migrated on SQLite or PostgreSQL.
new_uow = stores.new_uow


def linked(person_id: str, at: dt.datetime) -> KnownPerson:
    return KnownPerson("simpul-registry:r-1", person_id, "35.09.11.2007", at)


async def held(new_uow: NewUow) -> KnownPerson | None:
    async with new_uow() as uow:
        return await uow.known_persons.of_record("simpul-registry:r-1")


async def test_a_replayed_older_link_leaves_the_newer_person(new_uow: NewUow) -> None:
    await execute(new_uow(), record_known_persons, RecordKnownPersons((linked("per_new", T2),)))
    await execute(new_uow(), record_known_persons, RecordKnownPersons((linked("per_old", T1),)))
    assert await held(new_uow) == linked("per_new", T2)
    await execute(new_uow(), record_known_persons, RecordKnownPersons((linked("per_newer", T2 + dt.timedelta(1)),)))
    assert await held(new_uow) == linked("per_newer", T2 + dt.timedelta(1))
