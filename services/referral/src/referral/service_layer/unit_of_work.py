"""Referral's unit of work: the platform's, with referral's repository."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.repository import KnownPersons, SqlKnownPersons
from simpul_platform.unit_of_work import SqlUnitOfWork, UnitOfWork


class ReferralUnitOfWork(UnitOfWork):
    """What referral's handlers see: the persons it knows of, besides publish/audit/inbox."""

    known_persons: KnownPersons


class SqlReferralUnitOfWork(SqlUnitOfWork, ReferralUnitOfWork):
    """Referral's unit of work over its database."""

    def repositories(self, session: AsyncSession) -> None:
        """The SQL repositories over this transaction's session."""
        self.known_persons = SqlKnownPersons(session)
