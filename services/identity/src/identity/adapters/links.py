"""The link lock and the matcher as one unit of work sees them.

Every identity transaction that reads or writes records, persons or reviews first takes the link lock (an update
of the single `link_clock` row, held until commit; see `record_index` for why). `LinkLock` takes it once, at the
first repository call, and gives the clock value that stamps the details written. `SessionMatcher` catches the
process's `IndexedMatcher` up under that lock before its first use in the transaction, and tells it, once the
transaction ends, what it wrote: settled when committed (superseded and erased details forgotten), forgotten when
rolled back.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters.orm import link_clock
from identity.adapters.record_index import IndexedMatcher
from identity.domain.source_records import Candidate, Details, RecordKey, RecordMatch, Thresholds


class LinkLock:
    """The link lock of one transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._clock: int | None = None

    async def hold(self) -> int:
        """Take the lock unless this transaction holds it already; this transaction's clock value."""
        if self._clock is None:
            statement = (update(link_clock).where(link_clock.c.id == 1).values(value=link_clock.c.value + 1)
                         .returning(link_clock.c.value))
            self._clock = int((await self.session.execute(statement)).scalar_one())
        return self._clock

    @property
    def clock(self) -> int | None:
        """This transaction's clock value, once it holds the lock."""
        return self._clock


class SessionMatcher:
    """The `Matcher` port over the process's index, for one transaction."""

    def __init__(self, indexed: IndexedMatcher, lock: LinkLock) -> None:
        self.indexed, self.lock = indexed, lock
        self.thresholds: Thresholds = indexed.thresholds
        self._ready = False
        self._written: list[tuple[RecordKey, str | None]] = []  # (record, version; None: erased), in order

    async def ready(self) -> None:
        """Hold the lock and catch the index up with every record committed before (once per transaction)."""
        await self.lock.hold()
        if not self._ready:
            await self.indexed.prepare()
            self._ready = True

    async def candidates(self, key: RecordKey, details: Details) -> list[Candidate]:
        """The persons the record may be, through records other than itself, most likely first."""
        await self.ready()
        return await self.indexed.candidates(self.lock.session, key, details)

    async def matches(self, key: RecordKey, details: Details) -> list[RecordMatch]:
        """The other records the record may be the same child as, with their persons now, most likely first."""
        await self.ready()
        return await self.indexed.matches(self.lock.session, key, details)

    def add(self, key: RecordKey, version: str, details: Details) -> None:
        """Index details this transaction wrote (later records of the same transaction see them)."""
        self.indexed.add(key, version, details)
        self._written.append((key, version))

    def erased(self, key: RecordKey) -> None:
        """This transaction erased the record: its details are forgotten when it commits."""
        self._written.append((key, None))

    def committed(self) -> None:
        """The transaction committed: forget the versions what it wrote superseded (erased ones included)."""
        written, self._written = self._written, []
        if self.lock.clock is not None:
            for key, version in written:
                self.indexed.settle(key, version, self.lock.clock)

    def rolled_back(self) -> None:
        """The transaction did not commit: forget the details it wrote (the versions it superseded stay)."""
        written, self._written = self._written, []
        for _, version in written:
            self.indexed.forget(version)
