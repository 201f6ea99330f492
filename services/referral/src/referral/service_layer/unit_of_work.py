"""Referral's unit of work: the platform's, with referral's repositories."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.child_details_repository import ChildDetailsVault, SqlChildDetailsVault
from referral.adapters.client_repository import ApiClients, SqlApiClients
from referral.adapters.deadline_repository import CaseStatuses, Deadlines, SqlCaseStatuses, SqlDeadlines
from referral.adapters.idempotency_keys import idempotency_keys
from referral.adapters.provider_repository import Providers, ServiceTypes, SqlProviders, SqlServiceTypes
from referral.adapters.provider_sync_repository import ProviderChanges, SqlProviderChanges
from referral.adapters.referral_repository import Consents, Referrals, SqlConsents, SqlReferrals
from referral.adapters.repository import KnownPersons, SqlKnownPersons
from referral.adapters.webhook_repository import (
    SqlWebhookDeliveries,
    SqlWebhookEndpoints,
    WebhookDeliveries,
    WebhookEndpoints,
)
from simpul_platform.idempotency import IdempotencyKeys, SqlIdempotencyKeys
from simpul_platform.unit_of_work import SqlUnitOfWork, UnitOfWork


class ReferralUnitOfWork(UnitOfWork):
    """What referral's handlers see, besides publish/audit/inbox."""

    known_persons: KnownPersons
    providers: Providers
    service_types: ServiceTypes
    referrals: Referrals
    consents: Consents
    child_details: ChildDetailsVault
    deadlines: Deadlines
    case_statuses: CaseStatuses
    provider_changes: ProviderChanges
    webhook_endpoints: WebhookEndpoints
    webhook_deliveries: WebhookDeliveries
    api_clients: ApiClients
    idempotency_keys: IdempotencyKeys


class SqlReferralUnitOfWork(SqlUnitOfWork, ReferralUnitOfWork):
    """Referral's unit of work over its database."""

    def repositories(self, session: AsyncSession) -> None:
        """The SQL repositories over this transaction's session."""
        self.known_persons = SqlKnownPersons(session)
        self.providers, self.service_types = SqlProviders(session), SqlServiceTypes(session)
        self.referrals, self.consents = SqlReferrals(session), SqlConsents(session)
        self.deadlines, self.case_statuses = SqlDeadlines(session), SqlCaseStatuses(session)
        self.child_details = SqlChildDetailsVault(session)
        self.provider_changes = SqlProviderChanges(session)
        self.webhook_endpoints, self.webhook_deliveries = SqlWebhookEndpoints(session), SqlWebhookDeliveries(session)
        self.api_clients = SqlApiClients(session)
        self.idempotency_keys = SqlIdempotencyKeys(session, idempotency_keys)
