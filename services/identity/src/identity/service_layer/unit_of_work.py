"""Identity's unit of work: the platform's (publish, audit, inbox, commit) with identity's repositories and matcher.

Every unit of work that reads or writes records, persons or reviews does so under the link lock (the SQL
repositories take it at their first call), so linking, reviews and merges never interleave, on one replica or many.
When it ends, the process's matching index hears what it wrote (see `links.SessionMatcher`).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters import orm
from identity.adapters.links import LinkLock, SessionMatcher
from identity.adapters.record_index import IndexedMatcher
from identity.adapters.repository import Decisions, Merges, Persons, Reviews, SourceRecords
from identity.adapters.sql_repository import SqlDecisions, SqlMerges, SqlPersons, SqlReviews, SqlSourceRecords
from identity.service_layer.matching_port import Matcher
from simpul_platform.database import Database
from simpul_platform.unit_of_work import SqlUnitOfWork, UnitOfWork


class IdentityUnitOfWork(UnitOfWork):
    """What identity's handlers see."""

    records: SourceRecords
    persons: Persons
    reviews: Reviews
    decisions: Decisions
    merges: Merges
    matcher: Matcher


class SqlIdentityUnitOfWork(SqlUnitOfWork, IdentityUnitOfWork):
    """Identity's unit of work on its database, with the process's matching index."""

    def __init__(self, database: Database, matcher: IndexedMatcher, digest_key: bytes,
                 after_commit: Callable[[], None] = lambda: None) -> None:
        super().__init__(database, orm.delivery, orm.audit_log, after_commit)
        self.indexed, self.digest_key = matcher, digest_key
        self._session_matcher: SessionMatcher | None = None

    def repositories(self, session: AsyncSession) -> None:
        """Identity's repositories over the session, sharing one link lock."""
        lock = LinkLock(session)
        matcher = SessionMatcher(self.indexed, lock)
        self.matcher = self._session_matcher = matcher
        self.records = SqlSourceRecords(lock, matcher, self.digest_key)
        self.persons, self.reviews = SqlPersons(lock), SqlReviews(lock)
        self.decisions, self.merges = SqlDecisions(lock), SqlMerges(lock)

    async def _commit(self) -> None:
        await super()._commit()
        if self._session_matcher is not None:
            self._session_matcher.committed()

    async def rollback(self) -> None:
        """Undo the open transaction, if any, and forget the details it wrote from the matching index."""
        await super().rollback()
        if self._session_matcher is not None:
            self._session_matcher.rolled_back()
