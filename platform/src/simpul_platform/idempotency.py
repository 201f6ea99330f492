"""Idempotency-Key (draft-ietf-httpapi-idempotency-key-header), the same rules in every service.

- A key is scoped to the client that sent it (the token's subject): two clients may use the same key.
- The first request with a key runs, and its answer (status and body) is stored with the key in the same
  transaction as its effect (and its outbox events): either both commit or neither does.
- The same key with the same request (its fingerprint: method, target and canonical body) gets the stored answer
  again, marked as a replay, and changes nothing.
- The same key with another request is refused: 422 naming `Idempotency-Key`.
- A second request with the key while the first is still running is refused: 409 naming `Idempotency-Key`
  (the client retries later). On PostgreSQL a transaction-scoped advisory lock on the key tells them apart
  without waiting; SQLite has one writer at a time, and a racing insert of the same key is refused the same way.
- A refused request (a 4xx from the handler) rolls back and stores nothing: a retry with the key runs again.
- The stored answer is sealed under the service's keyring (it can hold what the request disclosed, a NIK, a child's
  details), bound to its key's row (subject and key): a token copied onto another client's key fails to open, and
  `simpul keys rotate` rewrites it (the column is marked `sealed_by`).
- Keys expire after a window (24 hours unless the service says otherwise); an expired key is forgotten (a request
  with it runs as new) and a periodic job purges expired keys (`purge_expired`).
"""

from __future__ import annotations

import abc
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Header
from sqlalchemy import (
    Column,
    DateTime,
    Delete,
    Insert,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    select,
    tuple_,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from simpul_platform.errors import Conflict, DomainError
from simpul_platform.field_encryption import Keyring, bound_keyring, row_key, sealed_by
from simpul_platform.unit_of_work import UnitOfWork

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
"""Set to `true` on an answer replayed from a stored key."""
DEFAULT_TTL = dt.timedelta(hours=24)
KEY_MAX_LENGTH = 255
KeyHeader = Annotated[str | None, Header(
    alias=HEADER, max_length=KEY_MAX_LENGTH + 2, pattern=r'^"?[\x21\x23-\x7e]{1,255}"?$',
    description="A unique key per logical request (a UUID), the same on every retry of it; as a plain token or a "
                "quoted sf-string. Kept 24 hours by default.")]
"""The Idempotency-Key request header of a route (the same form in every service)."""
ANSWER_PURPOSE = "idempotency_keys.body"
"""What a stored answer's token is bound to, with its row (`row_key(subject, key)`)."""
LOCK_CLASS = 0x51D3  # the first half of the two-integer advisory lock keys of idempotency keys

C = TypeVar("C")
R = TypeVar("R")


class KeyReused(DomainError):
    """The key was used before with another request."""

    title = "Idempotency key reused"

    def __init__(self) -> None:
        super().__init__(HEADER, "this key was already used with another request; use a new key")


class KeyInFlight(Conflict):
    """A request with the key is still being processed."""

    title = "Idempotency key in flight"

    def __init__(self) -> None:
        super().__init__(HEADER, "a request with this key is still being processed; retry later")


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key, and the fingerprint of the request that carries it."""

    subject: str
    key: str
    fingerprint: str

    @property
    def lock(self) -> int:
        """A signed 32-bit advisory lock id for the key (a rare collision only makes a retry wait)."""
        digest = hashlib.blake2b(f"{self.subject}\x00{self.key}".encode(), digest_size=4).digest()
        return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True)
class Answer:
    """What a request with a key answered: its status and JSON body (stored, and replayed as is)."""

    status: int
    body: bytes


@dataclass(frozen=True)
class StoredKey:
    """A key as stored: the request's fingerprint, the answer, when it expires."""

    fingerprint: str
    answer: Answer
    expires_at: dt.datetime


@dataclass(frozen=True)
class Outcome:
    """The answer to send, and whether it is a replay of a stored one."""

    answer: Answer
    replayed: bool


def fingerprint(method: str, target: str, body: Any) -> str:
    """A digest of a request (method, target and its parsed body, canonically) to tell a retry from a reuse."""
    canonical = json.dumps([method.upper(), target, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_table(metadata: MetaData) -> Table:
    """The `idempotency_keys` table on a service's metadata (its migrations create it)."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("subject", String(200), primary_key=True),
        Column("key", String(KEY_MAX_LENGTH), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        # A field token (UTF-8) the repository seals itself: bytes, so the column's type stays as migrated.
        Column("body", LargeBinary, nullable=False, info=sealed_by(ANSWER_PURPOSE)),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    )


class IdempotencyKeys(abc.ABC):
    """The keys a unit of work sees."""

    @abc.abstractmethod
    async def claim(self, key: IdempotencyKey, now: dt.datetime) -> StoredKey | None:
        """Hold the key for this transaction (KeyInFlight when another transaction holds it) and return it as
        stored, unless absent or expired at `now` (an expired one is forgotten)."""

    @abc.abstractmethod
    async def add(self, key: IdempotencyKey, answer: Answer, now: dt.datetime, expires_at: dt.datetime) -> None:
        """Store the key with its answer; KeyInFlight when another transaction stored it first."""

    @abc.abstractmethod
    async def purge(self, now: dt.datetime, limit: int) -> int:
        """Delete up to `limit` keys expired at `now`; how many."""


class SqlIdempotencyKeys(IdempotencyKeys):
    """Keys in the service's `idempotency_keys` table, each answer sealed under the engine's keyring."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self.session = session
        self.table = table

    async def claim(self, key: IdempotencyKey, now: dt.datetime) -> StoredKey | None:
        """One statement: on PostgreSQL it takes a transaction-scoped advisory lock on the key (released at commit or
        rollback) and reads the key's row; SQLite (one writer at a time) needs no lock. An expired row is deleted
        (the request then runs as new).

        Should the first request commit between this statement's snapshot and its lock, the row is not seen and
        the retry's insert of the key fails (KeyInFlight, 409): the effect still happens once.
        """
        statements = _statements(self.table)
        names = {"subject": key.subject, "key": key.key}
        row: Any
        if self.session.get_bind().dialect.name == "postgresql":
            row = (await self.session.execute(statements.claim, names | {"lock": key.lock})).one()
            if not row.held:
                raise KeyInFlight
        else:
            row = (await self.session.execute(statements.get, names)).first()
        if row is None or row.fingerprint is None:
            return None
        if _utc(row.expires_at) <= now:
            await self.session.execute(statements.delete, names)
            return None
        body = self._keyring().decrypt(bytes(row.body).decode(), ANSWER_PURPOSE, _row(key))
        return StoredKey(row.fingerprint, Answer(row.status, body.encode()), _utc(row.expires_at))

    async def add(self, key: IdempotencyKey, answer: Answer, now: dt.datetime, expires_at: dt.datetime) -> None:
        """Insert; a racing insert of the same key fails, and with it the whole transaction (no savepoint: the key
        is the transaction's last write, and nothing of a refused request may commit)."""
        token = self._keyring().encrypt(answer.body.decode(), ANSWER_PURPOSE, _row(key))
        try:
            await self.session.execute(_statements(self.table).insert, {
                "subject": key.subject, "key": key.key, "fingerprint": key.fingerprint, "status": answer.status,
                "body": token.encode(), "created_at": _utc(now), "expires_at": _utc(expires_at)})
        except IntegrityError:
            raise KeyInFlight from None

    async def purge(self, now: dt.datetime, limit: int) -> int:
        """Delete the oldest expired keys, up to `limit` (locked rows are skipped: another replica has them)."""
        t = self.table.c
        due = select(t.subject, t.key).where(t.expires_at <= _utc(now)).order_by(t.expires_at).limit(limit)
        if self.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = [tuple(row) for row in (await self.session.execute(due)).all()]
        if rows:
            await self.session.execute(delete(self.table).where(tuple_(t.subject, t.key).in_(rows)))
        return len(rows)

    def _keyring(self) -> Keyring:
        return bound_keyring(self.session.get_bind().dialect)


def _row(key: IdempotencyKey) -> str:
    return row_key(key.subject, key.key)


@dataclass(frozen=True)
class _Statements:
    claim: Select[Any]
    get: Select[Any]
    delete: Delete
    insert: Insert


@functools.cache
def _statements(table: Table) -> _Statements:
    """A table's statements, built once: a push spends no time building or keying them (SQLAlchemy memoizes the
    cache key of a statement object)."""
    t = table.c
    where = (t.subject == bindparam("subject")) & (t.key == bindparam("key"))
    columns = [t.fingerprint, t.status, t.body, t.expires_at]
    held = func.pg_try_advisory_xact_lock(LOCK_CLASS, bindparam("lock")).label("held")
    return _Statements(
        claim=select(held, *columns).select_from(select(literal(1)).subquery()).outerjoin(table, where),
        get=select(*columns).where(where), delete=delete(table).where(where), insert=insert(table))


def _utc(moment: dt.datetime) -> dt.datetime:
    # Stored in UTC; SQLite gives it back without its offset.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class InMemoryIdempotencyKeys(IdempotencyKeys):
    """Keys in a dict, for the fakes (one transaction at a time: nothing is ever in flight)."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], StoredKey] = {}

    async def claim(self, key: IdempotencyKey, now: dt.datetime) -> StoredKey | None:
        """The stored key unless expired (then forgotten); nothing to hold: a fake runs one transaction at a time."""
        stored = self.keys.get((key.subject, key.key))
        if stored is not None and stored.expires_at <= now:
            del self.keys[(key.subject, key.key)]
            return None
        return stored

    async def add(self, key: IdempotencyKey, answer: Answer, now: dt.datetime, expires_at: dt.datetime) -> None:
        """Store the key."""
        if (key.subject, key.key) in self.keys:
            raise KeyInFlight
        self.keys[(key.subject, key.key)] = StoredKey(key.fingerprint, answer, expires_at)

    async def purge(self, now: dt.datetime, limit: int) -> int:
        """Forget up to `limit` expired keys."""
        due = [name for name, stored in self.keys.items() if stored.expires_at <= now][:limit]
        for name in due:
            del self.keys[name]
        return len(due)


class KeyedUnitOfWork(Protocol):
    """A unit of work that keeps idempotency keys."""

    idempotency_keys: IdempotencyKeys


U = TypeVar("U", bound=UnitOfWork)


async def execute_once(uow: U, handler: Callable[[C, U], Awaitable[R]], command: C, *, key: IdempotencyKey | None,
                       answer: Callable[[R], Answer], now: dt.datetime, ttl: dt.timedelta = DEFAULT_TTL) -> Outcome:
    """Run a handler in a fresh unit of work at most once per key, store its answer with the key, and commit.

    Without a key the handler simply runs (`execute`). The unit of work must have `idempotency_keys`.
    """
    async with uow:
        keys: IdempotencyKeys = uow.idempotency_keys  # type: ignore[attr-defined]
        if key is not None:
            stored = await keys.claim(key, now)
            if stored is not None:
                if stored.fingerprint != key.fingerprint:
                    raise KeyReused
                return Outcome(stored.answer, replayed=True)
        result = answer(await handler(command, uow))
        if key is not None:
            await keys.add(key, result, now, now + ttl)
        await uow.commit()
    return Outcome(result, replayed=False)


async def purge_expired(uow: U, now: dt.datetime, batch: int = 1000) -> int:
    """One round of the purge job: delete up to `batch` expired keys in one transaction; how many went."""
    async with uow:
        keys: IdempotencyKeys = uow.idempotency_keys  # type: ignore[attr-defined]
        purged = await keys.purge(now, batch)
        await uow.commit()
    return purged
