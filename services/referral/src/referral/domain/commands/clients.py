"""Commands of the `clients` area (see `referral.service_layer.handlers.clients`): a provider's API clients and the
client-credentials grant that exchanges one for an access token.

Management commands name who asks (`by`, a district officer of one of the provider's districts) and when (`at`, the
service's clock). A token request names no caller: the client authenticates with its own id and secret.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from simpul_platform.callers import Caller


@dataclass(frozen=True)
class RegisterClient:
    """Register an API client for a provider, holding `scopes`; its secret is returned once."""

    by: Caller
    provider_id: str
    name: str
    scopes: frozenset[str]
    at: dt.datetime


@dataclass(frozen=True)
class ListClients:
    """The provider's API clients (never their secrets)."""

    by: Caller
    provider_id: str


@dataclass(frozen=True)
class RotateClientSecret:
    """Give the client a new secret; the old one keeps working for `overlap` (zero: it stops at once)."""

    by: Caller
    provider_id: str
    client_id: str
    overlap: dt.timedelta
    at: dt.datetime


@dataclass(frozen=True)
class RevokeClient:
    """Stop the client for good."""

    by: Caller
    provider_id: str
    client_id: str
    at: dt.datetime


@dataclass(frozen=True)
class RequestToken:
    """The client-credentials grant (RFC 6749 §4.4): the client's id and secret, and the scopes it asks for (None:
    all of its scopes)."""

    client_id: str
    client_secret: str
    scopes: frozenset[str] | None
    at: dt.datetime
