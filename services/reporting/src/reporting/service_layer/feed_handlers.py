"""The protected feed's use cases: the publication for one reader (REST, CSV, DHIS2)."""

from __future__ import annotations

from reporting.domain.feed import ProtectedCell, protect
from reporting.domain.feed_commands import ProtectedFeed
from reporting.domain.indicator_commands import IndicatorCells
from reporting.service_layer.indicator_handlers import indicator_cells
from reporting.service_layer.unit_of_work import ReportingUnitOfWork


async def protected_feed(query: ProtectedFeed, uow: ReportingUnitOfWork) -> list[ProtectedCell]:
    """Protect the WHOLE feed (every level and region: relations across what any reader sees are audited), then
    cut it to the reader: a subset of a protected publication reveals no more than the whole."""
    cells = await indicator_cells(IndicatorCells(as_of=query.as_of), uow)
    publication = protect(cells, query.protection)
    return [cell for cell in publication.cells if query.reader.sees(cell)]
