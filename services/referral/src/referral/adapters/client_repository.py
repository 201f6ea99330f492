"""Where referral keeps providers' API clients: the abstract repository, its SQL version and its in-memory version
(for the fake). Owned by the clients area; the table lives here, on `referral.adapters.orm.metadata` (migration
0007). Secrets are stored only as salted scrypt hashes: the current one and, during a rotation's overlap, the one
it replaced."""

from __future__ import annotations

import abc
import datetime as dt
from typing import Any

from sqlalchemy import Column, DateTime, Index, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.orm import metadata
from referral.domain.clients import ApiClient

api_clients = Table(
    "api_clients", metadata,
    Column("client_id", String(64), primary_key=True),
    Column("provider_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("scopes", String(500), nullable=False),
    Column("secret_hash", String(200), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True)),
    Column("previous_hash", String(200)),
    Column("previous_expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", String(200)),
    Index("ix_api_clients_provider_id", "provider_id"),
)

_MOMENTS = ("created_at", "rotated_at", "previous_expires_at", "revoked_at")


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A moment as stored and read back: in UTC (SQLite keeps no offset)."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _row(client: ApiClient) -> dict[str, Any]:
    row = {name: getattr(client, name) for name in api_clients.c.keys()}  # noqa: SIM118 - a Table's columns
    return row | {"scopes": " ".join(sorted(client.scopes))} | {name: _utc(row[name]) for name in _MOMENTS}


def _client(row: Any) -> ApiClient:
    values = dict(row._mapping)
    return ApiClient(**values | {"scopes": frozenset(values["scopes"].split())}
                     | {name: _utc(values[name]) for name in _MOMENTS})


class ApiClients(abc.ABC):
    """Providers' API clients by id."""

    @abc.abstractmethod
    async def add(self, client: ApiClient) -> None:
        """Keep a new client."""

    @abc.abstractmethod
    async def get(self, client_id: str, *, for_update: bool = False) -> ApiClient | None:
        """The client, locked for this transaction when it is to change."""

    @abc.abstractmethod
    async def save(self, client: ApiClient) -> None:
        """Store the client's changed secrets or revocation."""

    @abc.abstractmethod
    async def of_provider(self, provider_id: str) -> list[ApiClient]:
        """The provider's clients, revoked ones too, oldest first."""


class SqlApiClients(ApiClients):
    """The `api_clients` table of the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, client: ApiClient) -> None:
        """One insert."""
        await self.session.execute(insert(api_clients).values(_row(client)))

    async def get(self, client_id: str, *, for_update: bool = False) -> ApiClient | None:
        """One primary-key look-up."""
        query = select(api_clients).where(api_clients.c.client_id == client_id)
        row = (await self.session.execute(query.with_for_update() if for_update else query)).one_or_none()
        return None if row is None else _client(row)

    async def save(self, client: ApiClient) -> None:
        """One update of the row."""
        query = update(api_clients).where(api_clients.c.client_id == client.client_id).values(_row(client))
        await self.session.execute(query)

    async def of_provider(self, provider_id: str) -> list[ApiClient]:
        """One indexed query."""
        query = (select(api_clients).where(api_clients.c.provider_id == provider_id)
                 .order_by(api_clients.c.created_at, api_clients.c.client_id))
        return [_client(row) for row in await self.session.execute(query)]


class InMemoryApiClients(ApiClients):
    """Clients in a dict keyed by id (the fake's deep copy snapshots it)."""

    def __init__(self) -> None:
        self.clients: dict[str, ApiClient] = {}

    async def add(self, client: ApiClient) -> None:
        """Keep a copy."""
        self.clients[client.client_id] = ApiClient(**vars(client))

    async def get(self, client_id: str, *, for_update: bool = False) -> ApiClient | None:
        """A copy, so a change counts only once saved."""
        client = self.clients.get(client_id)
        return None if client is None else ApiClient(**vars(client))

    async def save(self, client: ApiClient) -> None:
        """Replace the stored copy."""
        self.clients[client.client_id] = ApiClient(**vars(client))

    async def of_provider(self, provider_id: str) -> list[ApiClient]:
        """By creation time, then id."""
        mine = [c for c in self.clients.values() if c.provider_id == provider_id]
        return sorted(mine, key=lambda c: (c.created_at, c.client_id))
