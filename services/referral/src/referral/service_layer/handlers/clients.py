"""Use cases of the `clients` area: a provider's API clients and the client-credentials grant.

Who manages clients: a district officer of one of the districts the provider serves (the directory's scope rule,
`directory.provider_in_scope`: another district's provider is not found). Not a district system (`service` role)
and not the provider itself: handing out credentials to a provider is a district's decision, and a provider asks
its district to rotate or revoke. An offboarded provider gets no new client and its clients get no token.

A token request is answered, never raised: refusals are the grant's own error codes (RFC 6749 §5.2), and a refused
attempt on a known client is audited (so the caller's transaction commits the audit entry and nothing else).
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass

from referral.domain.clients import ApiClient, InvalidScope, hash_secret, new_secret
from referral.domain.commands.clients import ListClients, RegisterClient, RequestToken, RevokeClient, RotateClientSecret
from referral.domain.errors import Conflict, Forbidden, NotFound
from referral.domain.providers import ProviderStatus
from referral.service_layer.handlers.directory import new_id, provider_in_scope
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.callers import Caller
from simpul_platform.unit_of_work import Access

DISTRICT_OFFICER = "district_officer"
PROVIDER = "provider"  # the role a client acts in, as the audit log names it


def _audited(subject: str, role: str, action: str, client: ApiClient) -> Access:
    return Access(subject=subject, role=role, action=action, resource="api_client",
                  resource_ids=(client.client_id, client.provider_id))


async def _hashed(secret: str) -> str:
    """The secret's scrypt hash, computed off the event loop (it takes a CPU for ~0.1 s by design)."""
    return await asyncio.to_thread(hash_secret, secret)


def _require_officer(by: Caller) -> None:
    if str(by.role) != DISTRICT_OFFICER:
        raise Forbidden("role", "only a district officer manages a provider's API clients")


async def _client_of(uow: ReferralUnitOfWork, by: Caller, provider_id: str, client_id: str) -> ApiClient:
    _require_officer(by)
    await provider_in_scope(uow, by, provider_id, for_update=False)
    client = await uow.api_clients.get(client_id, for_update=True)
    if client is None or client.provider_id != provider_id:
        raise NotFound("client_id", "no such client of this provider")
    return client


async def register_client(command: RegisterClient, uow: ReferralUnitOfWork) -> tuple[ApiClient, str]:
    """A new client of the provider and its secret, which is shown this once and kept only hashed."""
    _require_officer(command.by)
    provider = await provider_in_scope(uow, command.by, command.provider_id, for_update=False)
    if provider.status is ProviderStatus.OFFBOARDED:
        raise Conflict("provider_id", "the provider is offboarded")
    secret = new_secret()
    client = ApiClient(client_id=new_id("cli"), provider_id=provider.provider_id, name=command.name,
                       scopes=command.scopes, secret_hash=await _hashed(secret), created_by=command.by.subject,
                       created_at=command.at)
    await uow.api_clients.add(client)
    uow.audit(_audited(command.by.subject, str(command.by.role), "register", client))
    return client, secret


async def list_clients(command: ListClients, uow: ReferralUnitOfWork) -> list[ApiClient]:
    """The provider's clients, revoked ones too, oldest first."""
    _require_officer(command.by)
    provider = await provider_in_scope(uow, command.by, command.provider_id, for_update=False)
    return await uow.api_clients.of_provider(provider.provider_id)


async def rotate_client_secret(command: RotateClientSecret, uow: ReferralUnitOfWork) -> tuple[ApiClient, str]:
    """A new secret for the client (shown once); the previous one keeps working for the overlap."""
    client = await _client_of(uow, command.by, command.provider_id, command.client_id)
    secret = new_secret()
    client.rotate(await _hashed(secret), command.overlap, command.at)
    await uow.api_clients.save(client)
    uow.audit(_audited(command.by.subject, str(command.by.role), "rotate", client))
    return client, secret


async def revoke_client(command: RevokeClient, uow: ReferralUnitOfWork) -> ApiClient:
    """Stop the client for good."""
    client = await _client_of(uow, command.by, command.provider_id, command.client_id)
    client.revoke(command.by.subject, command.at)
    await uow.api_clients.save(client)
    uow.audit(_audited(command.by.subject, str(command.by.role), "revoke", client))
    return client


class TokenError(enum.StrEnum):
    """Why a token request is refused (RFC 6749 §5.2 error codes)."""

    INVALID_CLIENT = "invalid_client"
    INVALID_SCOPE = "invalid_scope"


@dataclass(frozen=True)
class Grant:
    """A token request granted: for which client of which provider, with which scopes."""

    client_id: str
    provider_id: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class Refusal:
    """A token request refused: the error code and a description naming no secret."""

    error: TokenError
    description: str


async def request_token(command: RequestToken, uow: ReferralUnitOfWork) -> Grant | Refusal:
    """Authenticate the client by its secret and grant the scopes it asked for (or all of its own)."""
    client = await uow.api_clients.get(command.client_id)
    if client is None:
        return Refusal(TokenError.INVALID_CLIENT, "unknown client or wrong secret")
    if not await asyncio.to_thread(client.authenticates, command.client_secret, command.at):
        uow.audit(_audited(client.client_id, PROVIDER, "token_refused", client))
        return Refusal(TokenError.INVALID_CLIENT, "unknown client or wrong secret")
    provider = await uow.providers.get(client.provider_id)
    if provider is None or provider.status is ProviderStatus.OFFBOARDED:
        uow.audit(_audited(client.client_id, PROVIDER, "token_refused", client))
        return Refusal(TokenError.INVALID_CLIENT, "the client's provider is offboarded")
    try:
        scopes = client.granted(command.scopes)
    except InvalidScope as refusal:
        return Refusal(TokenError.INVALID_SCOPE, refusal.reason)
    uow.audit(_audited(client.client_id, PROVIDER, "token", client))
    return Grant(client.client_id, client.provider_id, scopes)
