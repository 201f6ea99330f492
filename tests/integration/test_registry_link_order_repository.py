"""The registry's children on the fake and, through the migrations, on SQLite and PostgreSQL: identity's link made
before the one held (a replayed dead letter) leaves the newer person and its time, whatever the zone (issue 13,
point 12)."""

from __future__ import annotations

import datetime as dt

from registry.domain.commands import AttachPersons, PersonLink
from registry.service_layer.handlers.children import attach_persons
from simpul_platform.unit_of_work import execute
from tests.integration import test_registry_unit_of_work as stores
from tests.integration.test_registry_unit_of_work import NewUow

WIB = dt.timezone(dt.timedelta(hours=7))
T1 = dt.datetime(2026, 11, 30, 15, 0, tzinfo=WIB)
T2 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)  # an hour after T1

# The same three stores as the unit-of-work suite (the fake, SQLite and PostgreSQL), holding the pilot regions.
new_uow = stores.new_uow


async def test_a_replayed_older_link_leaves_the_newer_person_and_its_time(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        await uow.children.add(stores._record("chd_1", "S-1"))
        await uow.commit()
    for person_id, at in (("per_new", T2), ("per_old", T1)):
        await execute(new_uow(), attach_persons, AttachPersons((PersonLink("simpul-registry", "S-1", person_id, at),)))
    async with new_uow() as uow:
        stored = await uow.children.get("chd_1")
    assert stored is not None
    assert (stored.child.person_id, stored.child.person_linked_at) == ("per_new", T2)
