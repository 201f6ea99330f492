"""One suite, three stores: the fake unit of work, and the SQL one on PostgreSQL and on SQLite, agree."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from reporting.adapters.orm import delivery, metadata
from reporting.domain.model import RecordPerson
from reporting.service_layer.fake import FakeReportingUnitOfWork
from reporting.service_layer.unit_of_work import ReportingUnitOfWork, SqlReportingUnitOfWork
from simpul_platform.database import Database

VILLAGE = "35.09.11.2007"


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], ReportingUnitOfWork]]:
    """A factory of units of work over one fresh store: the fake, or the SQL one on SQLite or PostgreSQL."""
    if request.param == "fake":
        fake = FakeReportingUnitOfWork()
        yield lambda: fake
        return
    url = (f"sqlite+aiosqlite:///{tmp_path / 'reporting.db'}" if request.param == "sqlite"
           else request.getfixturevalue("make_database")("reporting"))
    database = Database(url)
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield lambda: SqlReportingUnitOfWork(database, delivery)
    await database.dispose()


def link(record: str, person: str, village: str | None = VILLAGE) -> RecordPerson:
    return RecordPerson(record_key=record, person_id=person, village_code=village)


async def save(uow: ReportingUnitOfWork, *links: RecordPerson, commit: bool = True) -> None:
    async with uow:
        await uow.record_persons.save(links)
        if commit:
            await uow.commit()


async def per_village(uow: ReportingUnitOfWork) -> dict[str, int]:
    async with uow:
        return await uow.record_persons.persons_per_village()


async def test_saved_links_count_distinct_persons_per_village(new_uow: Callable[[], ReportingUnitOfWork]) -> None:
    await save(new_uow(), link("a", "p1"), link("b", "p1"), link("c", "p2"), link("d", "p3", "35.10.01.2001"),
               link("e", "p4", None))
    assert await per_village(new_uow()) == {VILLAGE: 2, "35.10.01.2001": 1}


async def test_a_saved_link_replaces_the_records_earlier_link(new_uow: Callable[[], ReportingUnitOfWork]) -> None:
    await save(new_uow(), link("a", "p1"), link("b", "p2"))
    await save(new_uow(), link("a", "p2", "35.10.01.2001"))
    assert await per_village(new_uow()) == {VILLAGE: 1, "35.10.01.2001": 1}


async def test_an_uncommitted_save_leaves_nothing(new_uow: Callable[[], ReportingUnitOfWork]) -> None:
    await save(new_uow(), link("a", "p1"), commit=False)
    assert await per_village(new_uow()) == {}
