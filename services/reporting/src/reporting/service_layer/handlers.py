"""Reporting's use cases: each a handler(command, uow); the caller commits."""

from __future__ import annotations

from reporting.domain.commands import CountRegisteredChildren, RememberRecordPersons
from reporting.domain.model import latest_per_record
from reporting.domain.suppression import Cell, suppress
from reporting.service_layer.unit_of_work import ReportingUnitOfWork


async def remember_record_persons(command: RememberRecordPersons, uow: ReportingUnitOfWork) -> None:
    """Remember which person each record belongs to; counting distinct persons never counts a child twice."""
    await uow.record_persons.save(latest_per_record(command.links))


async def count_registered_children(query: CountRegisteredChildren, uow: ReportingUnitOfWork) -> list[Cell]:
    """Distinct persons per village the reader may see, small cells suppressed."""
    counts = await uow.record_persons.persons_per_village()
    return suppress({code: n for code, n in counts.items() if query.scope.covers(code)}, query.min_cell_size)
