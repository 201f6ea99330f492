"""The provider sync is lossless on the real PostgreSQL while writers commit concurrently and out of order.

A writer that took an earlier change sequence may commit after one that took a later sequence. A property-based
test drives schedules of such writers (transactions held open while others commit, some rolled back, several
referrals per transaction, the same referral rewritten by later transactions) with a poller that syncs page by page
with cursors between any two steps. It asserts what a provider relies on: positions only move forward, no page
repeats a referral, nothing uncommitted is ever served, and once the writers are done the poller holds every
referral's latest version. The same test against the naive `WHERE change_seq > :cursor ORDER BY change_seq` reader
(defined below, the repository without its watermark) finds a counterexample, and a fixed schedule shows the loss
step by step. The suite of the reader itself also runs on the fake and on SQLite.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.orm import audit_log, delivery
from referral.adapters.provider_sync_repository import ChangedReferral, ProviderChanges
from referral.adapters.referral_documents import referral_of
from referral.adapters.referral_repository import referrals
from referral.bootstrap import MIGRATIONS
from referral.domain.commands.provider_sync import ListProviderReferrals, SyncPosition
from referral.domain.consent import RecordedConsent
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers.provider_sync import list_provider_referrals
from referral.service_layer.unit_of_work import ReferralUnitOfWork, SqlReferralUnitOfWork
from simpul_platform.auth import Principal, Role
from simpul_platform.database import Database
from simpul_platform.migrations import upgrade
from simpul_platform.unit_of_work import execute

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
POOL = [f"r{n}" for n in range(6)]
POLLS = 6
"""At most this many polls drawn between the writers' steps per schedule (besides one after each commit)."""
CONVERGE_WITHIN = 20.0
"""Seconds the final sync may wait for the watermark: other tests' transactions on the same server hold it back."""


def referral(referral_id: str, provider_id: str) -> Referral:
    request = ReferralRequest(referral_id, "c1", "p1", "35.09", ("child.school_re_entry",),
                              RecordedConsent(AT - dt.timedelta(days=1)))
    return Referral(request, provider_id, [Step(ReferralStatus.ISSUED, "officer", AT)], PersonLink("p1"))


class NaiveProviderChanges(ProviderChanges):
    """The reader a first attempt writes: `change_seq > :cursor ORDER BY change_seq`, no watermark."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def after(self, provider_id: str, position: SyncPosition, updated_since: dt.datetime | None,
                    limit: int) -> list[ChangedReferral]:
        table = referrals.c
        query = (select(table.document, table.version, table.change_seq)
                 .where(table.provider_id == provider_id, table.change_seq > position.sequence)
                 .order_by(table.change_seq).limit(limit))
        return [ChangedReferral(referral_of(row.document, row.version, []), SyncPosition(0, row.change_seq))
                for row in await self.session.execute(query)]


class NaiveUnitOfWork(SqlReferralUnitOfWork):
    """Referral's unit of work with the naive reader."""

    def repositories(self, session: AsyncSession) -> None:
        super().repositories(session)
        self.provider_changes = NaiveProviderChanges(session)


Units = Callable[[], ReferralUnitOfWork]


@dataclasses.dataclass
class Poller:
    """A provider's client: keeps its cursor and the latest version it holds of each referral."""

    units: Units
    provider_id: str
    cursor: SyncPosition | None = None
    held: dict[str, int] = dataclasses.field(default_factory=dict)
    served: list[tuple[SyncPosition, str, int]] = dataclasses.field(default_factory=list)

    async def sync(self, limit: int) -> None:
        """Fetch pages until none is left now."""
        by = Principal(f"staff-{self.provider_id}", Role.PROVIDER, (self.provider_id,))
        while True:
            page = await execute(self.units(), list_provider_referrals,
                                 ListProviderReferrals(by, self.cursor, None, limit))
            ids = [changed.referral.referral_id for changed in page.items]
            assert len(ids) == len(set(ids)), f"a page repeats a referral: {ids}"
            for changed in page.items:
                self.served.append((changed.position, changed.referral.referral_id, changed.referral.version))
                self.held[changed.referral.referral_id] = changed.referral.version
            self.cursor = page.next
            if not page.more:
                return


@dataclasses.dataclass
class Writer:
    """A transaction of the schedule: opened, writes referrals, then commits or rolls back."""

    uow: ReferralUnitOfWork
    wrote: dict[str, int] = dataclasses.field(default_factory=dict)

    async def write(self, referral_id: str, provider_id: str) -> None:
        current = await self.uow.referrals.get(referral_id, for_update=True)
        changed = current or referral(referral_id, provider_id)
        await self.uow.referrals.save(changed)
        self.wrote[referral_id] = changed.version


async def stored_versions(units: Units, provider_id: str) -> dict[str, int]:
    """Every referral of the provider at its committed version, straight from the table."""
    async with units() as uow:
        assert isinstance(uow, SqlReferralUnitOfWork)
        rows = await uow.session.execute(select(referrals.c.referral_id, referrals.c.version)
                                         .where(referrals.c.provider_id == provider_id))
        return {row.referral_id: row.version for row in rows}


async def run_schedule(units: Units, data: st.DataObject, *, patience: float) -> None:
    """Draw and run one schedule of writers and polls, then check what the poller holds."""
    provider_id = f"prv_{uuid.uuid4().hex[:12]}"
    poller = Poller(units, provider_id)
    limit = data.draw(st.integers(1, 3), label="page size")
    to_open = data.draw(st.integers(2, 5), label="transactions")
    open_writers: list[Writer] = []
    committed: set[tuple[str, int]] = set()
    try:
        await _writers_and_polls(data, poller, limit, to_open, open_writers, committed)
    finally:  # a schedule hypothesis cuts short leaves no transaction (and no row lock) behind
        for writer in open_writers:
            await writer.uow.rollback()
    latest = await stored_versions(units, provider_id)
    deadline = time.monotonic() + patience
    while True:
        await poller.sync(limit)
        if poller.held == latest or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    positions = [position for position, _, _ in poller.served]
    assert positions == sorted(set(positions)), "positions went backwards or repeated"
    assert {(rid, version) for _, rid, version in poller.served} <= committed, "served an uncommitted change"
    assert poller.held == latest, f"the sync missed changes: holds {poller.held}, stored {latest}"


async def _writers_and_polls(data: st.DataObject, poller: Poller, limit: int, to_open: int,
                             open_writers: list[Writer], committed: set[tuple[str, int]]) -> None:
    """Open, write, commit or roll back transactions and poll, in the order drawn, until every writer is done; a
    poll follows every commit."""
    units, provider_id = poller.units, poller.provider_id
    pool = [f"{provider_id}_{rid}" for rid in POOL]
    polls = 0
    while to_open or open_writers:
        locked = {rid for writer in open_writers for rid in writer.wrote}
        free = [rid for rid in pool if rid not in locked]
        moves = ((["open"] if to_open and free else []) + (["write"] if open_writers and free else [])
                 + (["commit", "rollback"] if open_writers else []) + (["poll"] if polls < POLLS else []))
        move = data.draw(st.sampled_from(moves), label="move")
        if move == "poll":
            polls += 1
            await poller.sync(limit)
        elif move == "open":
            first = data.draw(st.sampled_from(free), label="referral")
            writer = Writer(units())
            open_writers.append(writer)
            await writer.uow.__aenter__()
            await writer.write(first, provider_id)
            to_open -= 1
        elif move == "write":
            writer = data.draw(st.sampled_from(open_writers), label="writer")
            await writer.write(data.draw(st.sampled_from(free), label="referral"), provider_id)
        else:
            writer = data.draw(st.sampled_from(open_writers), label="writer")
            open_writers.remove(writer)
            if move == "commit":
                await writer.uow.commit()
                committed |= set(writer.wrote.items())
                await poller.sync(limit)  # the client polls whenever something committed (and when drawn)
            await writer.uow.rollback()


def property_holds(url: str, unit_of_work: type[SqlReferralUnitOfWork], *, patience: float, examples: int,
                   phases: tuple[Phase, ...] = (Phase.generate, Phase.shrink)) -> None:
    """Run the property over `examples` schedules, each on its own event loop and engine (hypothesis is sync)."""

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None, phases=phases)
    @given(data=st.data())
    def lossless(data: st.DataObject) -> None:
        async def scenario() -> None:
            database = Database(url)
            try:
                await run_schedule(lambda: unit_of_work(database, delivery, audit_log), data, patience=patience)
            finally:
                await database.dispose()
        asyncio.run(scenario())

    lossless()


@pytest.mark.postgres
def test_a_poller_misses_nothing_while_writers_commit_out_of_order(make_database: Callable[..., str]) -> None:
    url = make_database("referral")
    asyncio.run(upgrade(url, MIGRATIONS))
    property_holds(url, SqlReferralUnitOfWork, patience=CONVERGE_WITHIN, examples=15)


@pytest.mark.postgres
def test_the_same_property_catches_the_naive_sequence_cursor(make_database: Callable[..., str]) -> None:
    url = make_database("referral")
    asyncio.run(upgrade(url, MIGRATIONS))
    with pytest.raises(AssertionError, match="missed changes"):
        property_holds(url, NaiveUnitOfWork, patience=0, examples=40, phases=(Phase.generate,))


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Units]:
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


async def _save(units: Units, *saved: Referral) -> None:
    async with units() as uow:
        for one in saved:
            await uow.referrals.save(one)
        await uow.commit()


async def _after(units: Units, position: SyncPosition | None = None, provider_id: str = "lpa", *,
                 since: dt.datetime | None = None, limit: int = 100) -> list[ChangedReferral]:
    async with units() as uow:
        return await uow.provider_changes.after(provider_id, position or SyncPosition(), since, limit)


async def test_every_store_streams_a_providers_changes_in_order(new_uow: Units) -> None:
    first, second, other = referral("r1", "lpa"), referral("r2", "lpa"), referral("r3", "other")
    await _save(new_uow, first, second, other)
    await _save(new_uow, first)  # r1 changes again: it moves after r2
    stream = await _after(new_uow)
    assert [(c.referral.referral_id, c.referral.version) for c in stream] == [("r2", 1), ("r1", 2)]
    assert stream[0].position < stream[1].position
    assert [c.referral.referral_id for c in await _after(new_uow, stream[0].position)] == ["r1"]
    assert await _after(new_uow, stream[1].position) == []
    assert [c.referral.referral_id for c in await _after(new_uow, limit=1)] == ["r2"]
    assert [c.referral.referral_id for c in await _after(new_uow, provider_id="other")] == ["r3"]
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    assert await _after(new_uow, since=soon) == []
    assert len(await _after(new_uow, since=soon - dt.timedelta(minutes=10))) == 2


@pytest.mark.postgres
async def test_a_change_held_back_by_an_open_transaction_is_served_after_it_commits(
    make_database: Callable[..., str]
) -> None:
    """Transaction 1 takes the earlier sequence and stays open; transaction 2 takes the later one and commits."""
    url = make_database("referral")
    await upgrade(url, MIGRATIONS)
    database = Database(url)
    try:
        units: dict[str, Units] = {
            "watermark": lambda: SqlReferralUnitOfWork(database, delivery, audit_log),
            "naive": lambda: NaiveUnitOfWork(database, delivery, audit_log)}
        held_open, later = Writer(units["watermark"]()), Writer(units["watermark"]())
        await held_open.uow.__aenter__()
        await held_open.write("r1", "lpa")
        await later.uow.__aenter__()
        await later.write("r2", "lpa")
        await later.uow.commit()
        pollers = {name: Poller(factory, "lpa") for name, factory in units.items()}
        for poller in pollers.values():
            await poller.sync(10)
        assert pollers["naive"].held == {"r2": 1}  # it moved its cursor past r1's sequence
        assert pollers["watermark"].held == {}  # r2 waits below the open transaction
        await held_open.uow.commit()
        deadline = time.monotonic() + CONVERGE_WITHIN
        while pollers["watermark"].held != {"r1": 1, "r2": 1} and time.monotonic() < deadline:
            await pollers["watermark"].sync(10)
        await pollers["naive"].sync(10)
        assert pollers["watermark"].held == {"r1": 1, "r2": 1}
        assert pollers["naive"].held == {"r2": 1}, "the naive cursor lost r1 for good"
    finally:
        await database.dispose()
