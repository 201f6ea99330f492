"""A provider's API clients: the credentials a provider's system exchanges for short-lived access tokens.

A district officer registers a client for a provider; its secret is shown once and kept only as a salted scrypt
hash. Rotation issues a new secret; the previous one keeps working for an overlap (so a provider can roll its
deployments) and then stops; an overlap of zero stops it at once (a leaked secret). Revocation is for good: a
revoked client gets no more tokens (tokens already issued live out their few minutes). A client holds a set of
OAuth scopes; a token request may ask for a subset, never more.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from referral.domain.errors import Conflict, Invalid, require, require_aware

SCOPES = frozenset({"referrals:read", "referrals:write", "services:write", "webhooks", "fhir"})
"""What a provider's client may be granted: read its referrals, move them along the lifecycle, push service
records, manage its webhook endpoints, use the FHIR façade."""

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_SCHEME = "scrypt"


def new_secret() -> str:
    """A fresh client secret: 256 random bits, URL-safe."""
    return "sps_" + secrets.token_urlsafe(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """The stored form of a secret: `scrypt$n$r$p$salt$hash` (salt of 16 random bytes)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "$".join([_SCHEME, str(_SCRYPT["n"]), str(_SCRYPT["r"]), str(_SCRYPT["p"]), _b64(salt), _b64(digest)])


def secret_matches(secret: str, stored: str) -> bool:
    """True when `secret` hashes to `stored` (compared in constant time)."""
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != _SCHEME:
        return False
    candidate = hashlib.scrypt(secret.encode(), salt=_unb64(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(candidate, _unb64(digest))


def require_scopes(scopes: frozenset[str], field: str) -> None:
    """Refuse scopes a provider's client cannot hold."""
    unknown = sorted(scopes - SCOPES)
    require(not unknown, field, f"unknown scope(s) {', '.join(unknown)}; one of {', '.join(sorted(SCOPES))}")
    require(bool(scopes), field, "at least one scope")


class InvalidScope(Invalid):
    """A token request asked for a scope the client does not hold."""


@dataclass
class ApiClient:
    """A provider's API client (the aggregate: its secrets change only through it)."""

    client_id: str
    provider_id: str
    name: str
    scopes: frozenset[str]
    secret_hash: str
    created_by: str
    created_at: dt.datetime
    rotated_at: dt.datetime | None = None
    previous_hash: str | None = None
    previous_expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    revoked_by: str | None = None

    def __post_init__(self) -> None:
        require(bool(self.name.strip()), "name", "name the client (which system of the provider uses it)")
        require_scopes(self.scopes, "scopes")
        require_aware(self.created_at, "at")

    @property
    def revoked(self) -> bool:
        """True once revoked."""
        return self.revoked_at is not None

    def authenticates(self, secret: str, at: dt.datetime) -> bool:
        """True when `secret` is the client's current one, or its previous one inside the overlap; never when
        revoked. Both hashes are checked so the time taken does not tell which one matched."""
        current = secret_matches(secret, self.secret_hash)
        previous = self.previous_hash is not None and secret_matches(secret, self.previous_hash)
        in_overlap = self.previous_expires_at is not None and at < self.previous_expires_at
        return not self.revoked and (current or (previous and in_overlap))

    def granted(self, requested: frozenset[str] | None) -> frozenset[str]:
        """The scopes a token gets: all of the client's when none are asked for, else the ones asked (a subset)."""
        if requested is None:
            return self.scopes
        beyond = sorted(requested - self.scopes)
        if beyond or not requested:
            raise InvalidScope("scope", f"not granted to this client: {', '.join(beyond) or '(empty)'}")
        return requested

    def rotate(self, new_hash: str, overlap: dt.timedelta, at: dt.datetime) -> None:
        """Replace the secret; the one it replaces keeps working for `overlap` (not at all when zero)."""
        self._require_active("rotate")
        require_aware(at, "at")
        require(overlap >= dt.timedelta(0), "overlap_seconds", "cannot be negative")
        self.previous_hash, self.previous_expires_at = (self.secret_hash, at + overlap) if overlap else (None, None)
        self.secret_hash, self.rotated_at = new_hash, at

    def revoke(self, by: str, at: dt.datetime) -> None:
        """Stop the client for good: neither secret gets a token again."""
        self._require_active("revoke")
        require_aware(at, "at")
        self.revoked_at, self.revoked_by = at, by
        self.previous_hash = self.previous_expires_at = None

    def _require_active(self, move: str) -> None:
        if self.revoked:
            raise Conflict("client_id", f"cannot {move}: the client is revoked")
