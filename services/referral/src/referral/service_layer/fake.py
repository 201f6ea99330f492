"""An in-memory unit of work for referral's unit tests: same behaviour as the SQL one, no database."""

from __future__ import annotations

from collections.abc import Sequence

from referral.adapters.repository import KnownPersons
from referral.domain.model import KnownPerson
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.unit_of_work import InMemoryUnitOfWork


class InMemoryKnownPersons(KnownPersons):
    """Persons in a dict keyed by record."""

    def __init__(self) -> None:
        self.persons: dict[str, KnownPerson] = {}

    async def save(self, persons: Sequence[KnownPerson]) -> None:
        """Insert or replace each record's person."""
        self.persons |= {person.record_key: person for person in persons}

    async def of_record(self, record_key: str) -> KnownPerson | None:
        """The record's person, if known."""
        return self.persons.get(record_key)


class FakeReferralUnitOfWork(InMemoryUnitOfWork, ReferralUnitOfWork):
    """Referral's fake: committed persons survive, a rollback restores them."""

    def __init__(self) -> None:
        super().__init__()
        self.known_persons = self._persons = InMemoryKnownPersons()
        self._snapshot: dict[str, KnownPerson] = {}

    def begin_repositories(self) -> None:
        """Remember the committed persons."""
        self._snapshot = dict(self._persons.persons)

    def rollback_repositories(self) -> None:
        """Forget what the open transaction changed."""
        self._persons.persons = self._snapshot
