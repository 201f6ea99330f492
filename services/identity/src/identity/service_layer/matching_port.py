"""What the real-time linking needs of a matcher (the adapter over the domain's `PersonIndex` implements it)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from identity.domain.source_records import Candidate, Details, RecordKey, Thresholds

__all__ = ["Candidate", "Details", "Matcher", "RecordKey", "Thresholds"]


class Matcher(Protocol):
    """Scores a record against the persons of every other record; the database stays the truth of who is who."""

    thresholds: Thresholds

    async def prepare(self) -> None:
        """Catch up with every record committed so far; call while holding the link lock."""
        ...

    async def candidates(self, session: AsyncSession, key: RecordKey, details: Details) -> list[Candidate]:
        """The persons (other than through the record itself) the record may be, most likely first."""
        ...

    def add(self, key: RecordKey, version: str, details: Details) -> None:
        """Take a record's new details into account (written in the caller's transaction, not yet committed)."""
        ...
