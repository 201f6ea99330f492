"""An in-memory unit of work for referral's unit tests: same behaviour as the SQL one, no database.

Each repository is an in-memory object; a transaction works on them directly, `begin` keeps a deep copy and a
rollback puts the copy back, so only committed changes survive.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from referral.adapters.child_details_repository import InMemoryChildDetailsVault
from referral.adapters.client_repository import InMemoryApiClients
from referral.adapters.deadline_repository import InMemoryCaseStatuses, InMemoryDeadlines
from referral.adapters.provider_repository import InMemoryProviders, InMemoryServiceTypes
from referral.adapters.provider_sync_repository import InMemoryProviderChanges
from referral.adapters.referral_repository import InMemoryConsents, InMemoryReferrals
from referral.adapters.repository import KnownPersons
from referral.adapters.webhook_repository import InMemoryWebhookDeliveries, InMemoryWebhookEndpoints
from referral.domain.model import KnownPerson
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.idempotency import InMemoryIdempotencyKeys
from simpul_platform.unit_of_work import InMemoryUnitOfWork

REPOSITORIES = ("known_persons", "providers", "service_types", "referrals", "consents", "deadlines", "case_statuses",
                "child_details", "api_clients", "idempotency_keys", "webhook_endpoints", "webhook_deliveries")


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

    async def held(self, record_keys: Sequence[str]) -> dict[str, KnownPerson]:
        """The persons held for these records, by record."""
        return {key: self.persons[key] for key in record_keys if key in self.persons}


class FakeReferralUnitOfWork(InMemoryUnitOfWork, ReferralUnitOfWork):
    """Referral's fake: committed state survives, a rollback restores it."""

    def __init__(self) -> None:
        super().__init__()
        self.known_persons = InMemoryKnownPersons()
        self.providers, self.service_types = InMemoryProviders(), InMemoryServiceTypes()
        self.referrals, self.consents = InMemoryReferrals(), InMemoryConsents()
        self.deadlines, self.case_statuses = InMemoryDeadlines(), InMemoryCaseStatuses()
        self.child_details = InMemoryChildDetailsVault()
        self.api_clients = InMemoryApiClients()
        self.idempotency_keys = InMemoryIdempotencyKeys()
        self.provider_changes = InMemoryProviderChanges(lambda: self.referrals)  # reads the referrals, holds nothing
        self.webhook_endpoints = InMemoryWebhookEndpoints()
        self.webhook_deliveries = InMemoryWebhookDeliveries(lambda: self.webhook_endpoints)  # sees the endpoints
        self._snapshot: dict[str, object] = {}

    def begin_repositories(self) -> None:
        """Remember the committed state of every repository."""
        self._snapshot = {name: copy.deepcopy(getattr(self, name)) for name in REPOSITORIES}

    def rollback_repositories(self) -> None:
        """Forget what the open transaction changed."""
        for name, repository in self._snapshot.items():
            setattr(self, name, repository)
