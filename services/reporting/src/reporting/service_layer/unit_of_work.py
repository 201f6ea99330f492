"""Reporting's unit of work: the platform's, with reporting's repository."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from reporting.adapters.feed_repository import FeedLedger, SqlFeedLedger
from reporting.adapters.indicator_repository import IndicatorFacts, SqlIndicatorFacts
from reporting.adapters.repository import RecordPersons, SqlRecordPersons
from simpul_platform.unit_of_work import SqlUnitOfWork, UnitOfWork


class ReportingUnitOfWork(UnitOfWork):
    """What reporting's handlers see: the record -> person links, besides publish/audit/inbox."""

    record_persons: RecordPersons
    facts: IndicatorFacts
    feed_ledger: FeedLedger


class SqlReportingUnitOfWork(SqlUnitOfWork, ReportingUnitOfWork):
    """Reporting's unit of work over its database."""

    def repositories(self, session: AsyncSession) -> None:
        """The SQL repositories over this transaction's session."""
        self.record_persons = SqlRecordPersons(session)
        self.facts = SqlIndicatorFacts(session)
        self.feed_ledger = SqlFeedLedger(session)
