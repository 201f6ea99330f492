"""The protected feed's use cases: publish it (monthly job, on demand), read the last publication (REST, CSV,
DHIS2). Every reader and the aggregate topic get the same numbers: those of the last publication."""

from __future__ import annotations

from reporting.adapters import contract_mapping
from reporting.domain.feed import ProtectedCell, protect
from reporting.domain.feed_commands import ProtectedFeed, PublishFeed
from reporting.domain.indicator_commands import IndicatorCells
from reporting.service_layer.indicator_handlers import indicator_cells
from reporting.service_layer.unit_of_work import ReportingUnitOfWork


async def protected_feed(query: ProtectedFeed, uow: ReportingUnitOfWork) -> list[ProtectedCell]:
    """The last publication cut to the reader: a subset of a protected publication reveals no more than the whole
    (the whole feed, every level and region, was audited at once)."""
    entries = await uow.feed_ledger.entries()
    return [cell for cell in (entry.cell(key) for key, entry in sorted(entries.items())) if query.reader.sees(cell)]


async def publish_feed(command: PublishFeed, uow: ReportingUnitOfWork) -> int:
    """Protect the whole feed, audited against the last publication (the ledger), keep it as the new last one, and
    publish its district-and-above part (outbox, with the caller's commit). The number of events published: 0
    when the slot was already taken."""
    await uow.feed_ledger.lock()
    if not await uow.feed_ledger.claim(command.slot, command.publication_id, command.published_at):
        return 0
    as_of = command.published_at.date()
    cells = await indicator_cells(IndicatorCells(as_of=as_of), uow)
    publication = protect(cells, command.protection, await uow.feed_ledger.entries())
    await uow.feed_ledger.replace(publication.ledger)
    events = contract_mapping.indicators_published(publication.cells, command.publication_id, command.published_at,
                                                   as_of)
    uow.publish(*events)
    return len(events)
