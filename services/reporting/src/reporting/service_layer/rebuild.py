"""Rebuild: replay every topic reporting consumes, from the beginning, into fresh tables; swap them in only when
they hold exactly what the live consumers hold.

The replay goes through the consumers' own batch handlers, so it applies the same code the live service runs; a
redelivered event is skipped as the inbox would skip it. Undecodable and unknown events are counted and skipped
(the live consumers dead-lettered them). The comparison reads both sets of tables whole, row by row (columns that
record the moment of writing rather than the event, `record_persons.updated_at`, are left out). Run it while the
topics are quiet: an event the live consumers apply during the replay shows as a difference, and then nothing is
swapped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import MetaData, Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.adapters.indicator_repository import SqlIndicatorFacts
from reporting.adapters.indicator_tables import LIVE, fact_tables
from reporting.adapters.orm import record_persons
from reporting.adapters.repository import SqlRecordPersons
from reporting.service_layer.unit_of_work import SqlReportingUnitOfWork
from simpul_contracts import ContractError, EnvelopeError, Event, event_types
from simpul_platform.database import Database
from simpul_platform.delivery import Delivery, decode, read_envelope
from simpul_platform.delivery_tables import DeliveryTables

BATCH = 2000
"""Events replayed in one transaction (the consumers' default batch size; `simpul reporting rebuild` passes the
configured one)."""
REBUILD = MetaData()
REBUILT = fact_tables(REBUILD, "rebuild_")
REBUILT_RECORD_PERSONS = record_persons.to_metadata(REBUILD, name="rebuild_record_persons")
# live table, its rebuilt copy, the columns compared (all but those that record when a row was written)
PAIRS: list[tuple[Table, Table, list[str]]] = [
    *((live, rebuilt, [c.name for c in live.columns]) for live, rebuilt in zip(LIVE.all(), REBUILT.all(), strict=True)),
    (record_persons, REBUILT_RECORD_PERSONS, ["record_key", "person_id", "village_code"]),
]
Handler = Callable[[Any, Sequence[Delivery]], Awaitable[None]]
Progress = Callable[[str, int, int], None]
ReadTopic = Callable[[str], Awaitable[list[ConsumerRecord[bytes, bytes]]]]


@dataclass(frozen=True)
class Source:
    """A consumed topic: its (namespaced) name, the consumer's inbox name and its batch handlers."""

    topic: str
    inbox: str
    handlers: Mapping[type[Event], Handler]


@dataclass
class RebuildReport:
    """What the rebuild replayed, skipped, found different, and whether it swapped the tables in."""

    replayed: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    differences: dict[str, int] = field(default_factory=dict)
    swapped: bool = False


class ReplayUnitOfWork(SqlReportingUnitOfWork):
    """The unit of work of a replay: the rebuild's tables, and an inbox that lives as long as the replay."""

    def __init__(self, database: Database, delivery: DeliveryTables, seen: set[tuple[str, str]]) -> None:
        super().__init__(database, delivery)
        self.seen = seen

    def repositories(self, session: AsyncSession) -> None:
        """The repositories over the rebuild's tables."""
        self.record_persons = SqlRecordPersons(session, REBUILT_RECORD_PERSONS)
        self.facts = SqlIndicatorFacts(session, REBUILT)

    async def claim(self, consumer: str, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """The deliveries this replay has not applied yet."""
        fresh = [d for d in deliveries if (consumer, d.envelope.id) not in self.seen]
        self.seen.update((consumer, d.envelope.id) for d in fresh)
        return fresh


async def rebuild(database: Database, delivery: DeliveryTables, sources: Sequence[Source], read_topic: ReadTopic,
                  progress: Progress, *, batch_size: int = BATCH) -> RebuildReport:
    """Replay, compare, and swap when identical (`batch_size` events per transaction, as the consumers apply them)."""
    async with database.engine.begin() as connection:
        await connection.run_sync(REBUILD.drop_all)
        await connection.run_sync(REBUILD.create_all)
    report, seen = RebuildReport(), set[tuple[str, str]]()
    for source in sources:
        deliveries, skipped = _decoded(await read_topic(source.topic), source.handlers)
        report.skipped += skipped
        for start in range(0, len(deliveries), batch_size):
            async with ReplayUnitOfWork(database, delivery, seen) as uow:
                for _, run in groupby(await uow.claim(source.inbox, deliveries[start:start + batch_size]),
                                      key=lambda d: source.handlers[type(d.event)]):
                    batch = list(run)
                    await source.handlers[type(batch[0].event)](uow, batch)
                await uow.commit()
            progress(source.topic, min(start + batch_size, len(deliveries)), len(deliveries))
        report.replayed[source.topic] = len(deliveries)
    report.differences = await differences(database)
    if not any(report.differences.values()):
        await _swap(database)
        report.swapped = True
    return report


def _decoded(records: Sequence[ConsumerRecord[bytes, bytes]], handlers: Mapping[type[Event], Handler],
             ) -> tuple[list[Delivery], int]:
    known, deliveries, skipped = event_types(), [], 0
    for record in records:
        try:
            envelope = read_envelope(record)
            model = known.get(envelope.type)
            if model is None:
                raise ContractError(f"unknown event type {envelope.type!r}")
            if model in handlers:
                deliveries.append(decode(record, envelope, model))
        except (EnvelopeError, ContractError):
            skipped += 1
    return deliveries, skipped


async def differences(database: Database) -> dict[str, int]:
    """Rows in one set of tables and not in the other, per live table."""
    found = {}
    async with database.session() as session:
        for live, rebuilt, columns in PAIRS:
            held = await _rows(session, live, columns)
            replayed = await _rows(session, rebuilt, columns)
            found[live.name] = len(held ^ replayed)
    return found


async def _rows(session: AsyncSession, table: Table, columns: list[str]) -> set[tuple[Any, ...]]:
    return {tuple(row) for row in await session.execute(select(*(table.c[name] for name in columns)))}


async def _swap(database: Database) -> None:
    async with database.engine.begin() as connection:
        for live, rebuilt, _ in PAIRS:
            names = [c.name for c in live.columns]
            await connection.execute(delete(live))
            await connection.execute(insert(live).from_select(names, select(*(rebuilt.c[n] for n in names))))
        await connection.run_sync(REBUILD.drop_all)
