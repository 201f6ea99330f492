"""Where reporting keeps record -> person links: the abstract repository and its PostgreSQL/SQLite one."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from reporting.adapters.orm import record_persons
from reporting.domain.model import RecordPerson
from simpul_platform.bulk import upsert_rows


class RecordPersons(abc.ABC):
    """The links from source records to persons that reporting counts."""

    @abc.abstractmethod
    async def save(self, links: Sequence[RecordPerson]) -> None:
        """Insert or replace the link of each record (at most one link per record in `links`)."""

    @abc.abstractmethod
    async def persons_per_village(self) -> dict[str, int]:
        """Distinct persons per village, villages without a code left out."""


class SqlRecordPersons(RecordPersons):
    """Links in the `record_persons` table of the unit of work's session (or a rebuild's copy of it)."""

    def __init__(self, session: AsyncSession, table: Table = record_persons) -> None:
        self.session, self.table = session, table

    async def save(self, links: Sequence[RecordPerson]) -> None:
        """One bulk upsert for all the links."""
        now = dt.datetime.now(dt.UTC)
        rows = [{"record_key": link.record_key, "person_id": link.person_id, "village_code": link.village_code,
                 "updated_at": now} for link in links]
        await upsert_rows(self.session, self.table, rows, key=["record_key"])

    async def persons_per_village(self) -> dict[str, int]:
        """COUNT(DISTINCT person_id) grouped by village."""
        links = self.table
        query = (
            select(links.c.village_code, func.count(func.distinct(links.c.person_id)))
            .where(links.c.village_code.is_not(None))
            .group_by(links.c.village_code)
        )
        return {code: int(count) for code, count in (await self.session.execute(query)).all()}
