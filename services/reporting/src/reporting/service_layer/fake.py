"""An in-memory unit of work for reporting's unit tests: same behaviour as the SQL one, no database."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from reporting.adapters.feed_repository import InMemoryFeedLedger
from reporting.adapters.indicator_repository import InMemoryIndicatorFacts
from reporting.adapters.repository import RecordPersons
from reporting.domain.model import RecordPerson
from reporting.service_layer.unit_of_work import ReportingUnitOfWork
from simpul_platform.unit_of_work import InMemoryUnitOfWork


class InMemoryRecordPersons(RecordPersons):
    """Links in a dict keyed by record."""

    def __init__(self) -> None:
        self.links: dict[str, RecordPerson] = {}

    async def save(self, links: Sequence[RecordPerson]) -> None:
        """Insert or replace each record's link."""
        self.links |= {link.record_key: link for link in links}

    async def persons_per_village(self) -> dict[str, int]:
        """Distinct persons per village."""
        persons: dict[str, set[str]] = {}
        for link in self.links.values():
            if link.village_code is not None:
                persons.setdefault(link.village_code, set()).add(link.person_id)
        return {code: len(ids) for code, ids in persons.items()}


class FakeReportingUnitOfWork(InMemoryUnitOfWork, ReportingUnitOfWork):
    """Reporting's fake: committed links survive, a rollback restores them."""

    def __init__(self) -> None:
        super().__init__()
        self.record_persons = self._links = InMemoryRecordPersons()
        self._snapshot: dict[str, RecordPerson] = {}
        self.facts = self._facts = InMemoryIndicatorFacts()
        self._facts_snapshot = InMemoryIndicatorFacts()
        self.feed_ledger = self._ledger = InMemoryFeedLedger()
        self._ledger_snapshot = InMemoryFeedLedger()

    def begin_repositories(self) -> None:
        """Remember the committed links."""
        self._snapshot = dict(self._links.links)
        self._facts_snapshot = copy.deepcopy(self._facts)
        self._ledger_snapshot = copy.deepcopy(self._ledger)

    def rollback_repositories(self) -> None:
        """Forget what the open transaction changed."""
        self._links.links = self._snapshot
        self.facts = self._facts = self._facts_snapshot
        self.feed_ledger = self._ledger = self._ledger_snapshot
