"""District API: a provider's API clients (see `referral.service_layer.handlers.clients`). A district officer of a
district the provider serves registers a client (the secret is in that answer only, never again), lists them,
rotates a secret (the previous one keeps working for `overlap_seconds`, default one hour; 0 stops it at once) and
revokes a client. Another district's provider is 404. Every change is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from referral.domain.clients import SCOPES, ApiClient
from referral.domain.commands.clients import ListClients, RegisterClient, RevokeClient, RotateClientSecret
from referral.service_layer.handlers import clients as handlers
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.auth import Principal, Role, require
from simpul_platform.unit_of_work import execute

C = TypeVar("C")
R = TypeVar("R")
OPAQUE_ID = r"^[A-Za-z0-9._:-]+$"
Officer = Annotated[Principal, Depends(require(Role.DISTRICT_OFFICER))]
ProviderId = Annotated[str, Path(max_length=64, pattern=OPAQUE_ID, description="The provider's id")]
ClientId = Annotated[str, Path(max_length=64, pattern=OPAQUE_ID, description="The client's id")]
Scope = Annotated[str, StringConstraints(pattern="^(" + "|".join(sorted(SCOPES)) + ")$")]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

router = APIRouter(prefix="/providers/{provider_id}/clients", tags=["api clients"])


class ClientCreate(BaseModel):
    """A client to register for the provider."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$",
                      description="Which system of the provider uses it", examples=["LPA case system"])
    scopes: list[Scope] = Field(default_factory=lambda: sorted(SCOPES), min_length=1, max_length=len(SCOPES),
                                description="OAuth scopes the client may be granted (default: all)")


class RotateIn(BaseModel):
    """How long the replaced secret keeps working."""

    model_config = ConfigDict(extra="forbid")

    overlap_seconds: float | None = Field(
        default=None, ge=0, le=7 * 86_400, description="0 stops the old secret at once; default: the service's")


class ClientRead(BaseModel):
    """A client as listed: never its secret."""

    client_id: str
    provider_id: str
    name: str
    scopes: list[str]
    status: str = Field(description="active or revoked")
    created_at: dt.datetime
    created_by: str
    rotated_at: dt.datetime | None
    previous_secret_expires_at: dt.datetime | None = Field(description="Until when the replaced secret still works")
    revoked_at: dt.datetime | None


class ClientCredentials(ClientRead):
    """A client with its secret: the only answer that ever shows it (store it now)."""

    client_secret: str


def _view(client: ApiClient) -> ClientRead:
    return ClientRead(client_id=client.client_id, provider_id=client.provider_id, name=client.name,
                      scopes=sorted(client.scopes), status="revoked" if client.revoked else "active",
                      created_at=client.created_at, created_by=client.created_by, rotated_at=client.rotated_at,
                      previous_secret_expires_at=client.previous_expires_at, revoked_at=client.revoked_at)


def _credentials(client: ApiClient, secret: str, response: Response) -> ClientCredentials:
    response.headers.update(NO_STORE)
    return ClientCredentials(**_view(client).model_dump(), client_secret=secret)


def _now(request: Request) -> dt.datetime:
    now: dt.datetime = request.app.state.wiring.clock()
    return now


async def _run(request: Request, handler: Callable[[C, ReferralUnitOfWork], Awaitable[R]], command: C) -> R:
    uow: ReferralUnitOfWork = request.app.state.wiring.unit_of_work()
    result: R = await execute(uow, handler, command)
    return result


@router.post("", status_code=201, response_model=ClientCredentials, summary="Register an API client for a provider")
async def register_client(provider_id: ProviderId, body: ClientCreate, principal: Officer, request: Request,
                          response: Response) -> ClientCredentials:
    """The new client's id and secret; the secret is shown in this answer only (it is kept hashed)."""
    command = RegisterClient(principal, provider_id, body.name, frozenset(body.scopes), _now(request))
    client, secret = await _run(request, handlers.register_client, command)
    response.headers["Location"] = f"/providers/{provider_id}/clients/{client.client_id}"
    return _credentials(client, secret, response)


@router.get("", response_model=list[ClientRead], summary="A provider's API clients")
async def list_clients(provider_id: ProviderId, principal: Officer, request: Request) -> list[ClientRead]:
    """Every client of the provider, revoked ones too, oldest first; never a secret."""
    return [_view(c) for c in await _run(request, handlers.list_clients, ListClients(principal, provider_id))]


@router.post("/{client_id}/rotate", response_model=ClientCredentials, summary="Rotate a client's secret")
async def rotate_secret(provider_id: ProviderId, client_id: ClientId, principal: Officer, request: Request, *,
                        response: Response, body: RotateIn | None = None) -> ClientCredentials:
    """A new secret, shown once; the replaced one keeps working until `previous_secret_expires_at`."""
    settings = request.app.state.wiring.settings
    seconds = settings.oauth_rotation_overlap_seconds if body is None or body.overlap_seconds is None \
        else body.overlap_seconds
    command = RotateClientSecret(principal, provider_id, client_id, dt.timedelta(seconds=seconds), _now(request))
    client, secret = await _run(request, handlers.rotate_client_secret, command)
    return _credentials(client, secret, response)


@router.post("/{client_id}/revoke", response_model=ClientRead, summary="Revoke a client")
async def revoke_client(provider_id: ProviderId, client_id: ClientId, principal: Officer,
                        request: Request) -> ClientRead:
    """The client gets no token again (tokens already issued expire within minutes)."""
    command = RevokeClient(principal, provider_id, client_id, _now(request))
    return _view(await _run(request, handlers.revoke_client, command))
