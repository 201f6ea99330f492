"""The unit of work: one business transaction, its repositories, the events it publishes and the accesses it audits.

Every use case is a handler `handle(command, uow)` that works inside a unit of work its caller opened (an HTTP
route, a consumer, a CLI command, through `CommandBus`); the caller commits. State changes, outbox rows, audit
entries and, for consumers, inbox rows commit together or not at all. `SqlUnitOfWork` is the real one;
`InMemoryUnitOfWork` the base of each service's fake for fast unit tests.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self, TypeVar

from opentelemetry import context as otel_context
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

from simpul_contracts import Event
from simpul_platform.audit import REASON_LENGTH
from simpul_platform.bulk import insert_rows
from simpul_platform.database import Database
from simpul_platform.delivery import Delivery
from simpul_platform.delivery_tables import DeliveryTables
from simpul_platform.inbox import Inbox
from simpul_platform.outbox import Outbox, Tombstone, payload_of

C = TypeVar("C")
R = TypeVar("R")
U = TypeVar("U", bound="UnitOfWork")


async def execute(uow: U, handler: Callable[[C, U], Awaitable[R]], command: C) -> R:
    """Run one handler in a fresh unit of work and commit: what routes and CLI commands do for every use case."""
    async with uow:
        result = await handler(command, uow)
        await uow.commit()
    return result


@dataclass(frozen=True)
class Access:
    """An audit entry: who did what to which resources, and why."""

    subject: str
    role: str
    action: str
    resource: str
    resource_ids: tuple[str, ...]
    reason: str | None = None


class UnitOfWork(abc.ABC):
    """What a handler sees besides its command: repositories (added by each service), publish, audit, inbox."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.accesses: list[Access] = []
        self.tombstones: list[Tombstone] = []
        self._traces: list[otel_context.Context] = []  # the trace each queued event was published in

    def publish(self, *events: Event) -> None:
        """Queue events; they reach the outbox in this transaction, so they are published only if it commits.

        Each event keeps the trace it was published in (a request's, a consumer run's): the commit may happen
        outside that span, and the relay continues the trace stored with the event.
        """
        self.events.extend(events)
        self._traces.extend([otel_context.get_current()] * len(events))

    def tombstone(self, topic: str, key: str) -> None:
        """Queue a tombstone for `key` on the compacted `topic`, written after this transaction's events (so it is
        the key's latest record) and only if the transaction commits."""
        self.tombstones.append(Tombstone(topic, key))

    def audit(self, access: Access) -> None:
        """Queue an audit entry, written in this transaction."""
        self.accesses.append(access)

    @abc.abstractmethod
    async def claim(self, consumer: str, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Record the deliveries as applied by `consumer`; return those not applied before, in order."""

    async def __aenter__(self) -> Self:
        await self._begin()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.rollback()  # a no-op after commit; what was not committed is undone

    async def commit(self) -> None:
        """Write the queued events and audit entries, then commit everything together."""
        await self._commit()
        self.events, self.accesses, self._traces, self.tombstones = [], [], [], []

    @abc.abstractmethod
    async def _begin(self) -> None: ...

    @abc.abstractmethod
    async def _commit(self) -> None: ...

    @abc.abstractmethod
    async def rollback(self) -> None:
        """Undo everything not committed."""


class SqlUnitOfWork(UnitOfWork):
    """A unit of work over the service's database: a session, a transaction, its outbox, inbox and audit log."""

    def __init__(self, database: Database, delivery: DeliveryTables, audit_log: Table | None = None,
                 after_commit: Callable[[], None] = lambda: None) -> None:
        super().__init__()
        self.database = database
        self.delivery = delivery
        self.audit_log = audit_log
        self.after_commit = after_commit
        self._session: AsyncSession | None = None
        self._transaction: AsyncSessionTransaction | None = None

    @property
    def session(self) -> AsyncSession:
        """The open session: for repositories only, never for handlers."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        return self._session

    def repositories(self, session: AsyncSession) -> None:
        """Build the service's repositories over the session (each service's unit of work overrides this)."""

    async def claim(self, consumer: str, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Insert inbox rows in this transaction; the deliveries whose ids were new."""
        fresh = await Inbox(self.delivery.processed_events, consumer).claim(self.session, deliveries)
        return [d for d in deliveries if d.envelope.id in fresh]

    async def _begin(self) -> None:
        self._session = self.database.session()
        self._transaction = await self._session.begin()
        self.repositories(self._session)

    async def _commit(self) -> None:
        session = self.session
        await self._write_events(session)
        await self._write_accesses(session)
        published = bool(self.events or self.tombstones)
        assert self._transaction is not None
        await self._transaction.commit()
        await self._close()
        if published:
            self.after_commit()

    async def rollback(self) -> None:
        """Undo the open transaction, if any, and close the session."""
        if self._transaction is not None and self._transaction.is_active:
            await self._transaction.rollback()
        await self._close()

    async def _close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session, self._transaction = None, None

    async def _write_events(self, session: AsyncSession) -> None:
        outbox = Outbox(self.delivery.outbox)
        for trace_context, events in _by_trace(self.events, self._traces):
            token = otel_context.attach(trace_context)
            try:
                await outbox.add(session, *events)
            finally:
                otel_context.detach(token)
        await outbox.add_tombstones(session, *self.tombstones)

    async def _write_accesses(self, session: AsyncSession) -> None:
        if not self.accesses:
            return
        if self.audit_log is None:
            raise RuntimeError("this service keeps no audit log")
        at = dt.datetime.now(dt.UTC)
        await insert_rows(session, self.audit_log, [
            {"at": at, "subject": a.subject, "role": a.role, "action": a.action, "resource": a.resource,
             "resource_id": resource_id, "reason": (a.reason or "")[:REASON_LENGTH] or None}
            for a in self.accesses for resource_id in a.resource_ids])


def _by_trace(events: Sequence[Event], traces: Sequence[otel_context.Context],
              ) -> Iterator[tuple[otel_context.Context, list[Event]]]:
    """Consecutive events published in the same trace, together (order kept)."""
    run: list[Event] = []
    for index, event in enumerate(events):
        if run and traces[index] is not traces[index - 1]:
            yield traces[index - 1], run
            run = []
        run.append(event)
    if run:
        yield traces[len(events) - 1], run


class InMemoryUnitOfWork(UnitOfWork):
    """The base of every service's fake: keeps what was committed in lists a test can read."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[Event] = []
        self.tombstoned: list[Tombstone] = []
        self.audited: list[Access] = []
        self.applied: set[tuple[str, str]] = set()
        self.commits = 0
        self._claimed: set[tuple[str, str]] = set()
        self._open = False

    async def claim(self, consumer: str, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Deliveries whose ids this consumer has not applied (nor claimed in this transaction)."""
        fresh = []
        for delivery in deliveries:
            key = (consumer, delivery.envelope.id)
            if key not in self.applied and key not in self._claimed:
                self._claimed.add(key)
                fresh.append(delivery)
        return fresh

    async def _begin(self) -> None:
        self.events, self.accesses, self._traces, self._claimed = [], [], [], set()
        self.tombstones = []
        self.begin_repositories()
        self._open = True

    async def _commit(self) -> None:
        for event in self.events:
            payload_of(event)  # refused as the outbox refuses it
        self.published.extend(self.events)
        self.tombstoned.extend(self.tombstones)
        self.audited.extend(self.accesses)
        self.applied |= self._claimed
        self.commit_repositories()
        self.commits += 1
        self._open = False

    async def rollback(self) -> None:
        """Forget the open transaction's changes (nothing to do after a commit)."""
        if self._open:
            self.events, self.accesses, self._traces, self._claimed = [], [], [], set()
            self.tombstones = []
            self.rollback_repositories()
            self._open = False

    def begin_repositories(self) -> None:
        """Start a transaction in the fake repositories (snapshot what a rollback restores)."""

    def commit_repositories(self) -> None:
        """Keep the fake repositories' changes (the next transaction snapshots them again)."""

    def rollback_repositories(self) -> None:
        """Restore the fake repositories to the snapshot taken at the start."""
