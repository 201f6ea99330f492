"""Where referral keeps referrals (their steps, services and person link) and the guardians' consent decisions.
The abstract repositories, their SQL versions and their in-memory versions (for the fake).

Owned by the referrals area. The tables live here too, on `referral.adapters.orm.metadata`. A referral is one row:
the columns the queries filter on, and the aggregate as a JSON document (`referral_documents`), so it loads with one
look-up and saves with one statement; its service records are rows of their own (`service_record_rows`), loaded
with it in one more query (or not at all: a push only adds records, and the document counts them), and a save
inserts only the records it added.
"""

from __future__ import annotations

import abc
import copy
import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    DateTime,
    Index,
    Integer,
    Select,
    String,
    Table,
    Update,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import Sequence as DatabaseSequence
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.orm import metadata
from referral.adapters.referral_documents import document, referral_of
from referral.adapters.service_record_rows import add_records, records_of, rewrite_records
from referral.domain.child_details import last_closure
from referral.domain.consent import ConsentState
from referral.domain.district_queue import QueueReason, queue_reason
from referral.domain.errors import Conflict
from referral.domain.lifecycle import OPEN, ReferralStatus, ServiceRecord
from referral.domain.referrals import Referral
from simpul_platform.database import json_text
from simpul_platform.upsert import upsert

referrals = Table(
    "referrals",
    metadata,
    Column("referral_id", String(64), primary_key=True),
    Column("child_id", String(40), nullable=False, index=True),
    Column("person_id", String(64), nullable=False, index=True),
    Column("provider_id", String(64), nullable=False),  # indexed first in ix_referrals_provider_change
    Column("district", String(5), nullable=False),
    Column("status", String(20), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("queue_reason", String(20)),
    Column("previous_referral_id", String(64), index=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("document", JSON, nullable=False),
    # Where the row's last write stands in the change stream the provider sync reads (provider_sync_repository):
    # the writer's transaction id (PostgreSQL; 0 on SQLite) and a change sequence, both stamped by every save.
    Column("change_xid", BigInteger, nullable=False, server_default="0"),
    Column("change_seq", BigInteger, nullable=False, server_default="0"),
    Index("ix_referrals_district_status", "district", "status"),
    Index("ix_referrals_provider_change", "provider_id", "change_xid", "change_seq"),
)
change_sequence = DatabaseSequence("referral_change_seq", metadata=metadata)  # PostgreSQL only (migration 0008)


referral_consents = Table(
    "referral_consents",
    metadata,
    Column("child_id", String(40), primary_key=True),
    Column("given", Boolean, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class ReferralSearch:
    """Which referrals a district officer asks for: inside `scope` (region codes), optionally narrowed."""

    scope: tuple[str, ...]
    status: ReferralStatus | None = None
    provider_id: str | None = None
    child_id: str | None = None
    person_id: str | None = None
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class Queued:
    """A referral waiting in the district queue, and why."""

    referral: Referral
    reason: QueueReason


class Referrals(abc.ABC):
    """Referrals by id, each loaded whole as the domain's `Referral` aggregate."""

    @abc.abstractmethod
    async def get(self, referral_id: str, *, for_update: bool = False, records: bool = True) -> Referral | None:
        """The referral, if it exists (locked for this transaction with `for_update`). `records=False` may leave
        its stored service records out (`service_count` still counts them), for a caller that only adds some."""

    async def get_many(self, referral_ids: Sequence[str], *, for_update: bool = False,
                       records: bool = True) -> dict[str, Referral]:
        """The referrals of these ids that exist, by id (locked in id order with `for_update`, so two callers
        never deadlock; `records` as for `get`). One look-up per id unless a store does better."""
        found = {}
        for referral_id in sorted(set(referral_ids)):
            referral = await self.get(referral_id, for_update=for_update, records=records)
            if referral is not None:
                found[referral_id] = referral
        return found

    @abc.abstractmethod
    async def save(self, referral: Referral) -> None:
        """Insert or update the referral and its history; its version goes up by one (a concurrent save of the
        same version is refused as a conflict)."""

    async def save_many(self, referrals: Sequence[Referral]) -> None:
        """Save each referral as `save` does (a batch's changed referrals): one save each unless a store does
        better; any stale version refuses the whole call as a conflict."""
        for referral in referrals:
            await self.save(referral)

    @abc.abstractmethod
    async def open_of_provider(self, provider_id: str) -> list[Referral]:
        """The provider's referrals that are not closed (completed, declined, revoked or expired), oldest first,
        locked for this transaction (a suspension moves them back to the district queue)."""

    @abc.abstractmethod
    async def open_of_child(self, child_id: str) -> list[Referral]:
        """The child's open referrals, oldest first, locked for this transaction (consent withdrawal, case
        closure)."""

    @abc.abstractmethod
    async def of_child(self, child_id: str) -> list[Referral]:
        """Every referral of the child (a registry record), open or closed, whatever person it follows now, oldest
        first, locked for this transaction (the registry's erasure of the child)."""

    @abc.abstractmethod
    async def of_person(self, person_id: str) -> list[Referral]:
        """Every referral whose current person id is `person_id` (identity merges move them), oldest first, locked
        for this transaction."""

    @abc.abstractmethod
    async def closed_since(self, child_id: str) -> dt.datetime | None:
        """When the child's last referral closed, if it has referrals and none is open; None while one is open or
        when it was never referred (the retention of the child's minimal details counts from here)."""

    @abc.abstractmethod
    async def search(self, search: ReferralSearch) -> list[Referral]:
        """The referrals in the search's scope and filters, newest first."""

    @abc.abstractmethod
    async def queue(self, scope: tuple[str, ...], limit: int = 100) -> list[Queued]:
        """The district queue in `scope`: re-routed, overdue, declined and expired referrals not re-referred yet,
        oldest first."""


class Consents(abc.ABC):
    """The guardians' consent for referral per child, as the registry's events recorded it (newest wins)."""

    @abc.abstractmethod
    async def get(self, child_id: str) -> ConsentState | None:
        """The consent state in force for the child, None when no decision reached referral."""

    @abc.abstractmethod
    async def save(self, state: ConsentState) -> None:
        """Record the child's consent state (the caller has checked that it supersedes the stored one)."""


def _row(referral: Referral, version: int) -> dict[str, Any]:
    reason = queue_reason(referral)
    return {"referral_id": referral.referral_id, "child_id": referral.request.child_id,
            "person_id": referral.person_id, "provider_id": referral.provider_id,
            "district": referral.request.district, "status": str(referral.status),
            "is_open": referral.status in OPEN, "queue_reason": str(reason) if reason else None,
            "previous_referral_id": referral.previous_referral_id, "issued_at": referral.issued_at.astimezone(dt.UTC),
            "version": version, "updated_at": dt.datetime.now(dt.UTC), "document": document(referral)}


_ROW_COLUMNS = ("referral_id", "child_id", "person_id", "provider_id", "district", "status", "is_open", "queue_reason",
                "previous_referral_id", "issued_at", "version", "updated_at", "document")
"""The columns `_row` gives (the change stamp aside)."""


def _change_stamp(session: AsyncSession) -> dict[str, Any]:
    """The change-stream position of a write (see provider_sync_repository): on PostgreSQL the writer's top-level
    transaction id and the next value of a sequence; on SQLite (one writer at a time, holding the database's write
    lock from its first write to its commit) 0 and the largest sequence so far plus one."""
    if session.get_bind().dialect.name == "postgresql":
        return {"change_xid": literal_column("pg_current_xact_id()::text::bigint"),
                "change_seq": change_sequence.next_value()}
    return {"change_xid": 0,
            "change_seq": select(func.coalesce(func.max(referrals.c.change_seq), 0) + 1).scalar_subquery()}


@functools.cache
def _guarded_update(dialect: str) -> Update:
    """The update of a referral guarded by the version it was loaded at, built once per dialect with bind
    parameters: building and cache-keying it per save (15 values) was most of SQLAlchemy's time in a save."""
    table = referrals.c
    values: dict[str, Any] = {name: bindparam(f"new_{name}", type_=referrals.c[name].type) for name in _ROW_COLUMNS}
    if dialect == "postgresql":
        values |= {"change_xid": literal_column("pg_current_xact_id()::text::bigint"),
                   "change_seq": change_sequence.next_value()}
    else:
        values |= {"change_xid": 0,
                   "change_seq": select(func.coalesce(func.max(referrals.c.change_seq), 0) + 1).scalar_subquery()}
    return update(referrals).where(table.referral_id == bindparam("old_referral_id"),
                                   table.version == bindparam("old_version")).values(values)


_ELEMENT_TYPES: dict[str, Any] = {"is_open": Boolean, "issued_at": DateTime(timezone=True),
                                   "updated_at": DateTime(timezone=True), "version": Integer, "old_version": Integer}
_BULK_NAMES = (*_ROW_COLUMNS, "old_version")
_BULK_UPDATE = text(
    "UPDATE referrals AS r SET "
    + ", ".join(f"{name} = v.{name}" for name in _ROW_COLUMNS if name not in ("referral_id", "document"))
    + ", document = CAST(v.document AS json), change_xid = pg_current_xact_id()::text::bigint,"
    + " change_seq = nextval('referral_change_seq')"
    + " FROM unnest(" + ", ".join(f":{name}" for name in _BULK_NAMES) + ") AS v(" + ", ".join(_BULK_NAMES) + ")"
    + " WHERE r.referral_id = v.referral_id AND r.version = v.old_version RETURNING r.referral_id"
).bindparams(*(bindparam(name, type_=ARRAY(_ELEMENT_TYPES.get(name, String))) for name in _BULK_NAMES))
"""A batch's guarded updates as one statement on PostgreSQL (one array per column; the documents as JSON text):
500 updates took a round trip and SQLAlchemy's execution overhead each, about 1.5 ms a referral."""


def _bulk_parameters(saved: Sequence[Referral]) -> dict[str, list[Any]]:
    rows = [_row(referral, referral.version + 1) for referral in saved]
    columns: dict[str, list[Any]] = {name: [row[name] for row in rows] for name in _ROW_COLUMNS}
    columns["document"] = [json_text(document) for document in columns["document"]]
    columns["old_version"] = [referral.version for referral in saved]
    return columns


_BY_ID = select(referrals.c.document, referrals.c.version).where(referrals.c.referral_id == bindparam("referral_id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
"""A referral by id, built once (its cache key too): every lifecycle move and push reads one."""


async def referrals_of_rows(session: AsyncSession, rows: Sequence[Any], records: bool = True) -> list[Referral]:
    """The aggregates of referral rows (document and version), with their service records in one query, or
    without them (`service_count` still counts them)."""
    loaded = [referral_of(row.document, row.version, []) for row in rows]
    found = await records_of(session, [r.referral_id for r in loaded]) if records else {}
    for referral in loaded:
        referral.service_records = found.get(referral.referral_id, [])
        if records and len(referral.service_records) != referral.service_count:
            raise RuntimeError(f"referral {referral.referral_id}: its document counts {referral.service_count}"
                               f" service records, its rows hold {len(referral.service_records)}")
    return loaded


def _in_scope(scope: Sequence[str]) -> ColumnElement[bool]:
    """Districts inside the scope's region codes, as `Principal.covers_region` decides (no scope: nothing)."""
    district = referrals.c.district
    return or_(False, *(or_(district == code, district.like(code + ".%")) for code in scope))


class SqlReferrals(Referrals):
    """Referrals in the `referrals` table of the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._stored: dict[str, tuple[int, tuple[ServiceRecord, ...]]] = {}
        """For each referral loaded or saved here: how many service records its rows hold, and those of them
        that the aggregate holds (all, or none when loaded without records), as they are stored."""

    async def get(self, referral_id: str, *, for_update: bool = False, records: bool = True) -> Referral | None:
        """One primary-key look-up (and one for its service records, unless `records=False`)."""
        row = (await self.session.execute(_BY_ID_FOR_UPDATE if for_update else _BY_ID,
                                          {"referral_id": referral_id})).one_or_none()
        return None if row is None else (await self._loaded([row], records))[0]

    async def get_many(self, referral_ids: Sequence[str], *, for_update: bool = False,
                       records: bool = True) -> dict[str, Referral]:
        """One query (locking in id order with `for_update`), and one for the service records."""
        query = (select(referrals.c.referral_id, referrals.c.document, referrals.c.version)
                 .where(referrals.c.referral_id.in_(sorted(set(referral_ids)))).order_by(referrals.c.referral_id))
        rows = (await self.session.execute(query.with_for_update() if for_update else query)).all()
        return {referral.referral_id: referral for referral in await self._loaded(rows, records)}

    async def save(self, referral: Referral) -> None:
        """An insert for a new referral, else an update guarded by the version it was loaded at."""
        version = referral.version + 1
        row = _row(referral, version)
        if referral.version == 0:
            await self.session.execute(insert(referrals).values(row | _change_stamp(self.session)))
        else:
            guarded = _guarded_update(self.session.get_bind().dialect.name)
            if row.keys() != set(_ROW_COLUMNS):
                raise RuntimeError("_ROW_COLUMNS no longer names the columns of _row")
            params = {f"new_{name}": value for name, value in row.items()}
            result = await self.session.execute(guarded, params | {
                "old_referral_id": referral.referral_id, "old_version": referral.version})
            if getattr(result, "rowcount", 1) != 1:
                raise Conflict("version", "the referral changed concurrently: read it again")
        await self._save_records([referral])
        referral.version = version

    async def save_many(self, referrals_: Sequence[Referral]) -> None:
        """On PostgreSQL the updates in one statement, guarded by version like `save` (a stale one refuses them
        all); inserts, and every save on other stores, one at a time."""
        if len({referral.referral_id for referral in referrals_}) != len(referrals_):
            raise ValueError("save_many: a referral appears twice")
        updated = [referral for referral in referrals_ if referral.version > 0]
        if self.session.get_bind().dialect.name != "postgresql" or not updated:
            await super().save_many(referrals_)
            return
        for referral in referrals_:
            if referral.version == 0:
                await self.save(referral)
        result = await self.session.execute(_BULK_UPDATE, _bulk_parameters(updated))
        if len(result.all()) != len(updated):
            raise Conflict("version", "a referral changed concurrently: read it again")
        await self._save_records(updated)
        for referral in updated:
            referral.version += 1

    async def open_of_provider(self, provider_id: str) -> list[Referral]:
        """The provider's open referrals, locked."""
        return await self._locked(and_(referrals.c.provider_id == provider_id, referrals.c.is_open))

    async def open_of_child(self, child_id: str) -> list[Referral]:
        """The child's open referrals, locked."""
        return await self._locked(and_(referrals.c.child_id == child_id, referrals.c.is_open))

    async def of_child(self, child_id: str) -> list[Referral]:
        """The child's referrals, locked."""
        return await self._locked(referrals.c.child_id == child_id)

    async def of_person(self, person_id: str) -> list[Referral]:
        """The person's referrals, locked."""
        return await self._locked(referrals.c.person_id == person_id)

    async def closed_since(self, child_id: str) -> dt.datetime | None:
        """The child's referrals, unlocked (the child-details erasure job asks)."""
        query = select(referrals.c.document, referrals.c.version).where(referrals.c.child_id == child_id)
        return last_closure(await self._loaded((await self.session.execute(query)).all()))

    async def search(self, search: ReferralSearch) -> list[Referral]:
        """One query over the indexed columns."""
        table = referrals.c
        filters = [_in_scope(search.scope)]
        for column, value in ((table.status, search.status), (table.provider_id, search.provider_id),
                              (table.child_id, search.child_id), (table.person_id, search.person_id)):
            if value is not None:
                filters.append(column == str(value))
        query = (select(table.document, table.version).where(*filters)
                 .order_by(table.issued_at.desc(), table.referral_id).limit(search.limit).offset(search.offset))
        return await self._loaded((await self.session.execute(query)).all())

    async def queue(self, scope: tuple[str, ...], limit: int = 100) -> list[Queued]:
        """Queued rows of the scope with no referral following them."""
        follower = referrals.alias("follower")
        table = referrals.c
        rereferred = exists().where(follower.c.previous_referral_id == table.referral_id)
        query: Select[Any] = (select(table.document, table.version, table.queue_reason)
                              .where(_in_scope(scope), table.queue_reason.is_not(None), ~rereferred)
                              .order_by(table.issued_at, table.referral_id).limit(limit))
        rows = (await self.session.execute(query)).all()
        return [Queued(referral, QueueReason(row.queue_reason))
                for referral, row in zip(await self._loaded(rows), rows, strict=True)]

    async def _locked(self, condition: ColumnElement[bool]) -> list[Referral]:
        query = (select(referrals.c.document, referrals.c.version).where(condition)
                 .order_by(referrals.c.issued_at, referrals.c.referral_id).with_for_update())
        return await self._loaded((await self.session.execute(query)).all())

    async def _loaded(self, rows: Sequence[Any], records: bool = True) -> list[Referral]:
        """`referrals_of_rows`, noting which service records each aggregate holds as stored."""
        loaded = await referrals_of_rows(self.session, rows, records)
        for referral in loaded:
            self._stored[referral.referral_id] = (referral.service_count, tuple(referral.service_records))
        return loaded

    async def _save_records(self, saved: Sequence[Referral]) -> None:
        """Insert the records the referrals took since they were loaded; rewrite any loaded one that changed."""
        unknown = [r.referral_id for r in saved if r.version > 0 and r.referral_id not in self._stored]
        found = await records_of(self.session, unknown) if unknown else {}
        for referral_id in unknown:  # loaded by another unit of work: as stored now
            self._stored[referral_id] = (len(found.get(referral_id, ())), tuple(found.get(referral_id, ())))
        added: list[tuple[str, int, ServiceRecord]] = []
        changed: list[tuple[str, int, ServiceRecord]] = []
        for referral in saved:
            referral_id, records = referral.referral_id, referral.service_records
            count, held = self._stored.get(referral_id, (0, ()))
            new = records[len(held):]
            if len(records) < len(held) or referral.service_count != count + len(new):
                raise RuntimeError(f"referral {referral_id}: service records removed, or added without "
                                   "record_service (records are kept, and counted)")
            # The held records are the last `len(held)` of the `count` stored (all of them, or none, after a load).
            changed += [(referral_id, position, record) for position, (record, before)
                        in enumerate(zip(records[:len(held)], held, strict=True), start=count - len(held) + 1)
                        if record is not before and record != before]
            added += [(referral_id, position, record) for position, record in enumerate(new, start=count + 1)]
            self._stored[referral_id] = (referral.service_count, tuple(records))
        await add_records(self.session, added)
        await rewrite_records(self.session, changed)


class SqlConsents(Consents):
    """Consent states in the `referral_consents` table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, child_id: str) -> ConsentState | None:
        """One primary-key look-up, locked (the consumer decides on it)."""
        query = (select(referral_consents.c.given, referral_consents.c.recorded_at)
                 .where(referral_consents.c.child_id == child_id).with_for_update())
        row = (await self.session.execute(query)).one_or_none()
        return None if row is None else ConsentState(child_id, row.given, _aware(row.recorded_at))

    async def save(self, state: ConsentState) -> None:
        """Insert or replace the child's row."""
        row = {"child_id": state.child_id, "given": state.given, "recorded_at": state.recorded_at.astimezone(dt.UTC)}
        await upsert(self.session, referral_consents, row, key=["child_id"])


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)  # SQLite keeps no zone: UTC is stored


class InMemoryReferrals(Referrals):
    """Referrals in a dict; each get and save copies, so the fake shares no objects with its callers (as SQL)."""

    def __init__(self) -> None:
        self.referrals: dict[str, Referral] = {}
        self.changes: dict[str, tuple[int, dt.datetime]] = {}
        """Each referral's change sequence and time of its last save (the provider sync reads them)."""
        self.last_change = 0

    async def get(self, referral_id: str, *, for_update: bool = False, records: bool = True) -> Referral | None:
        """A copy of the stored referral."""
        stored = self.referrals.get(referral_id)
        return None if stored is None else _copy(stored)

    async def save(self, referral: Referral) -> None:
        """Store a copy (without the events the caller still has to publish), refusing a stale version."""
        stored = self.referrals.get(referral.referral_id)
        if (stored.version if stored else 0) != referral.version:
            raise Conflict("version", "the referral changed concurrently: read it again")
        referral.version += 1
        self.referrals[referral.referral_id] = _copy(referral)
        self.last_change += 1
        self.changes[referral.referral_id] = (self.last_change, dt.datetime.now(dt.UTC))

    async def open_of_provider(self, provider_id: str) -> list[Referral]:
        """The provider's open referrals, oldest first."""
        return self._where(lambda r: r.provider_id == provider_id and r.status in OPEN)

    async def open_of_child(self, child_id: str) -> list[Referral]:
        """The child's open referrals, oldest first."""
        return self._where(lambda r: r.request.child_id == child_id and r.status in OPEN)

    async def of_child(self, child_id: str) -> list[Referral]:
        """The child's referrals, oldest first."""
        return self._where(lambda r: r.request.child_id == child_id)

    async def of_person(self, person_id: str) -> list[Referral]:
        """The person's referrals, oldest first."""
        return self._where(lambda r: r.person_id == person_id)

    async def closed_since(self, child_id: str) -> dt.datetime | None:
        """From the child's referrals."""
        return last_closure(self._where(lambda r: r.request.child_id == child_id))

    async def search(self, search: ReferralSearch) -> list[Referral]:
        """Filtered in Python, newest first."""
        def matches(r: Referral) -> bool:
            wanted = ((search.status, r.status), (search.provider_id, r.provider_id),
                      (search.child_id, r.request.child_id), (search.person_id, r.person_id))
            return _covers(search.scope, r.request.district) and all(w is None or w == v for w, v in wanted)
        found = sorted(self._where(matches), key=lambda r: (-r.issued_at.timestamp(), r.referral_id))
        return found[search.offset:search.offset + search.limit]

    async def queue(self, scope: tuple[str, ...], limit: int = 100) -> list[Queued]:
        """Queued referrals of the scope with no referral following them, oldest first."""
        followed = {r.previous_referral_id for r in self.referrals.values()}
        queued = []
        for referral in self._where(lambda r: _covers(scope, r.request.district)):
            reason = queue_reason(referral, rereferred=referral.referral_id in followed)
            if reason is not None:
                queued.append(Queued(referral, reason))
        return queued[:limit]

    def _where(self, condition: Any) -> list[Referral]:
        chosen = [r for r in self.referrals.values() if condition(r)]
        return [_copy(r) for r in sorted(chosen, key=lambda r: (r.issued_at, r.referral_id))]


class InMemoryConsents(Consents):
    """Consent states in a dict keyed by child."""

    def __init__(self) -> None:
        self.states: dict[str, ConsentState] = {}

    async def get(self, child_id: str) -> ConsentState | None:
        """The child's state, if any."""
        return self.states.get(child_id)

    async def save(self, state: ConsentState) -> None:
        """Replace the child's state."""
        self.states[state.child_id] = state


def _covers(scope: Sequence[str], district: str) -> bool:
    return any(district == code or district.startswith(code + ".") for code in scope)


def _copy(referral: Referral) -> Referral:
    events, referral.events = referral.events, []
    try:
        return copy.deepcopy(referral)
    finally:
        referral.events = events
