"""Reporting's use cases against the in-memory unit of work: links remembered, distinct persons counted."""

from __future__ import annotations

import datetime as dt

from reporting.domain.commands import CountRegisteredChildren, RememberRecordPersons
from reporting.domain.model import RecordPerson, Scope
from reporting.entrypoints.consumers.identity_links import record_linked
from reporting.service_layer.fake import FakeReportingUnitOfWork
from reporting.service_layer.handlers import count_registered_children, remember_record_persons
from simpul_contracts.events import RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.delivery import Delivery
from simpul_platform.unit_of_work import execute

VILLAGE, OTHER = "35.09.11.2007", "35.10.01.2001"
EVERYWHERE = Scope(None)


def link(record: str, person: str, village: str | None = VILLAGE) -> RecordPerson:
    return RecordPerson(record_key=f"registry:{record}", person_id=person, village_code=village)


async def remember(uow: FakeReportingUnitOfWork, *links: RecordPerson) -> None:
    await execute(uow, remember_record_persons, RememberRecordPersons(links))


async def counts(uow: FakeReportingUnitOfWork, scope: Scope = EVERYWHERE,
                 min_cell_size: int = 1) -> dict[str, int | None]:
    cells = await execute(uow, count_registered_children, CountRegisteredChildren(scope, min_cell_size))
    return {cell.region_code: cell.count for cell in cells}


async def test_two_records_of_one_person_count_once() -> None:
    uow = FakeReportingUnitOfWork()
    await remember(uow, link("a", "p1"), link("b", "p1"), link("c", "p2"))
    assert await counts(uow) == {VILLAGE: 2}


async def test_a_later_link_of_the_same_record_wins_within_one_run() -> None:
    uow = FakeReportingUnitOfWork()
    await remember(uow, link("a", "p1"), link("b", "p2"), link("a", "p2"))
    assert await counts(uow) == {VILLAGE: 1}


async def test_records_without_a_village_are_not_counted() -> None:
    uow = FakeReportingUnitOfWork()
    await remember(uow, link("a", "p1", village=None))
    assert await counts(uow) == {}


async def test_small_cells_are_suppressed() -> None:
    uow = FakeReportingUnitOfWork()
    await remember(uow, link("a", "p1"), *(link(str(n), f"q{n}", OTHER) for n in range(5)))
    assert await counts(uow, min_cell_size=5) == {VILLAGE: None, OTHER: 5}


async def test_a_reader_sees_only_the_villages_of_their_scope() -> None:
    uow = FakeReportingUnitOfWork()
    await remember(uow, link("a", "p1"), link("b", "p2", OTHER))
    assert await counts(uow, Scope(("35.09",))) == {VILLAGE: 1}


async def test_nothing_is_remembered_when_the_unit_of_work_is_not_committed() -> None:
    uow = FakeReportingUnitOfWork()
    async with uow:
        await remember_record_persons(RememberRecordPersons((link("a", "p1"),)), uow)
    assert await counts(uow) == {}


async def test_the_consumer_applies_a_run_of_link_events_as_one_command() -> None:
    events = [RecordLinkedV1(source_system="registry", source_record_id=r, person_id=p, village_code=VILLAGE,
                             reason=LinkReason.NEW_PERSON, linked_at=dt.datetime.now(dt.UTC))
              for r, p in (("a", "p1"), ("b", "p1"), ("c", "p2"))]
    uow = FakeReportingUnitOfWork()
    async with uow:
        await record_linked(uow, [Delivery(record=None, envelope=e.envelope(), event=e) for e in events])  # type: ignore[arg-type]
        await uow.commit()
    assert await counts(uow) == {VILLAGE: 2}
