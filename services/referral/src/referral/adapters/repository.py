"""Where referral keeps the persons it knows of: the abstract repository and its SQL one."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.orm import known_persons
from referral.domain.model import KnownPerson
from simpul_platform.bulk import upsert_rows


class KnownPersons(abc.ABC):
    """The persons referral may refer, by source record."""

    @abc.abstractmethod
    async def save(self, persons: Sequence[KnownPerson]) -> None:
        """Insert or replace each record's person (at most once per record in `persons`)."""

    @abc.abstractmethod
    async def of_record(self, record_key: str) -> KnownPerson | None:
        """The person a source record belongs to, if referral knows of it."""

    @abc.abstractmethod
    async def held(self, record_keys: Sequence[str]) -> dict[str, KnownPerson]:
        """The persons held for these records (those referral knows of), by record."""


class SqlKnownPersons(KnownPersons):
    """Persons in the `known_persons` table of the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(self, persons: Sequence[KnownPerson]) -> None:
        """One bulk upsert for all of them."""
        now = dt.datetime.now(dt.UTC)
        rows = [{"record_key": p.record_key, "person_id": p.person_id, "village_code": p.village_code,
                 "linked_at": p.linked_at.astimezone(dt.UTC) if p.linked_at else None, "updated_at": now}
                for p in persons]
        await upsert_rows(self.session, known_persons, rows, key=["record_key"])

    async def of_record(self, record_key: str) -> KnownPerson | None:
        """One primary-key look-up."""
        query = select(*_COLUMNS).where(known_persons.c.record_key == record_key)
        row = (await self.session.execute(query)).one_or_none()
        return None if row is None else _person(row)

    async def held(self, record_keys: Sequence[str]) -> dict[str, KnownPerson]:
        """One look-up by primary key for all of them."""
        if not record_keys:
            return {}
        query = select(*_COLUMNS).where(known_persons.c.record_key.in_(record_keys))
        return {row.record_key: _person(row) for row in await self.session.execute(query)}


_COLUMNS = (known_persons.c.record_key, known_persons.c.person_id, known_persons.c.village_code,
            known_persons.c.linked_at)


def _person(row: Row[Any]) -> KnownPerson:
    linked_at = row.linked_at  # SQLite gives it back without its offset; it was stored in UTC
    return KnownPerson(row.record_key, row.person_id, row.village_code,
                       linked_at.replace(tzinfo=dt.UTC) if linked_at is not None and linked_at.tzinfo is None
                       else linked_at)
