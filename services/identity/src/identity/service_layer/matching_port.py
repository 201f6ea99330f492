"""What the real-time linking needs of a matcher (the adapter over the domain's `PersonIndex` implements it)."""

from __future__ import annotations

from typing import Protocol

from identity.domain.source_records import Candidate, Details, RecordKey, RecordMatch, Thresholds

__all__ = ["Candidate", "Details", "Matcher", "RecordKey", "RecordMatch", "Thresholds"]


class Matcher(Protocol):
    """Scores a record against the persons of every other record; the store stays the truth of who is who.

    It sees every record committed before the unit of work, and those written in it."""

    thresholds: Thresholds

    async def candidates(self, key: RecordKey, details: Details) -> list[Candidate]:
        """The persons (other than through the record itself) the record may be, most likely first."""
        ...

    async def matches(self, key: RecordKey, details: Details) -> list[RecordMatch]:
        """The other records the record may be the same child as, with their persons, most likely first."""
        ...
