"""The protected feed's use cases: the publication for one reader (REST, CSV, DHIS2)."""

from __future__ import annotations

from reporting.adapters import contract_mapping
from reporting.domain.feed import ProtectedCell, protect
from reporting.domain.feed_commands import ProtectedFeed, PublishFeed
from reporting.domain.indicator_commands import IndicatorCells
from reporting.service_layer.indicator_handlers import indicator_cells
from reporting.service_layer.unit_of_work import ReportingUnitOfWork


async def protected_feed(query: ProtectedFeed, uow: ReportingUnitOfWork) -> list[ProtectedCell]:
    """Protect the WHOLE feed (every level and region: relations across what any reader sees are audited), then
    cut it to the reader: a subset of a protected publication reveals no more than the whole."""
    cells = await indicator_cells(IndicatorCells(as_of=query.as_of), uow)
    publication = protect(cells, query.protection)
    return [cell for cell in publication.cells if query.reader.sees(cell)]


async def publish_feed(command: PublishFeed, uow: ReportingUnitOfWork) -> int:
    """Protect the whole feed and publish its district-and-above part (outbox, with the caller's commit); the
    number of events published."""
    as_of = command.published_at.date()
    publication = protect(await indicator_cells(IndicatorCells(as_of=as_of), uow), command.protection)
    events = contract_mapping.indicators_published(publication.cells, command.publication_id, command.published_at,
                                                   as_of)
    uow.publish(*events)
    return len(events)
