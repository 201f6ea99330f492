"""Bearer tokens (JWT, RFC 9068 access tokens) carrying a role, a region or provider scope and OAuth scopes.

Verified against the development HS256 secret, a configured RS256/ES256 public key, or an identity provider's JWKS
URL (keys rotate: an unknown `kid` refetches the set). `iss` and `aud` are always checked. Claim names are
configurable so an off-the-shelf identity provider's tokens map onto a `Principal`: the role claim (a string or a
list, possibly nested as `realm_access.roles`), the region claim (region codes) and the provider claim (a
provider's id, the whole scope of a provider token). The `scope` claim is OAuth's space-delimited string and becomes
`Principal.permissions`, never the region scope. Least privilege unless a token says otherwise.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.algorithms import RSAAlgorithm

from simpul_platform.problems import Problem

ISSUER = "simpul"
AUDIENCE = "simpul"
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - the RFC 9068 header value, not a secret
ASYMMETRIC = ["RS256", "ES256"]
CHALLENGE = 'Bearer realm="simpul"'
VERIFIED_TOKENS = 10_000  # verified tokens remembered per verifier (a few per client for a token's lifetime)
bearer = HTTPBearer(auto_error=False)


class Role(enum.StrEnum):
    """Who a caller is in SPRPA terms."""

    CADRE = "cadre"  # village cadre: own village(s)
    DISTRICT_OFFICER = "district_officer"  # own district(s)
    PROVIDER = "provider"  # own provider id
    MINISTRY = "ministry"  # aggregates only, national
    SERVICE = "service"  # another system, scoped like a district


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: who, in what role, over which region codes or provider ids (`scope`), with which
    OAuth scopes (`permissions`, from the token's `scope` claim)."""

    subject: str
    role: Role
    scope: tuple[str, ...]
    permissions: frozenset[str] = frozenset()

    def covers_region(self, code: str) -> bool:
        """True when a region code (village, district...) lies inside this caller's scope."""
        return any(code == s or code.startswith(s + ".") for s in self.scope)

    def may(self, permission: str) -> bool:
        """True when the token granted the OAuth scope `permission`."""
        return permission in self.permissions


@dataclass(frozen=True)
class ClaimNames:
    """Where a token carries the role, the region codes and the provider id (dots reach into nested claims)."""

    role: str = "role"
    regions: str = "regions"
    provider: str = "provider_id"


class TokenSettings(Protocol):
    """The settings a verifier is built from (`simpul_platform.settings.ServiceSettings` has them)."""

    @property
    def jwt_secret(self) -> Any: ...

    jwt_public_key: str | None
    jwt_issuer: str
    jwt_audience: str
    jwt_jwks_url: str | None
    jwt_jwks_cache_seconds: float
    jwt_role_claim: str
    jwt_region_claim: str
    jwt_provider_claim: str


@dataclass(frozen=True)
class TokenKeys:
    """How tokens are verified: an HS256 secret (development), an RS256/ES256 public key, or a JWKS URL."""

    secret: str
    public_key: str | None = None
    issuer: str = ISSUER
    audience: str = AUDIENCE
    jwks_url: str | None = None
    claims: ClaimNames = field(default_factory=ClaimNames)
    jwks_cache_seconds: float = 300
    jwks_cooldown_seconds: float = 10
    _verified: dict[str, tuple[Principal, float, float]] = field(default_factory=dict, repr=False, compare=False)
    """Tokens verified against a fixed key (not a JWKS, whose keys may be withdrawn): the caller and the token's
    `nbf` and `exp`, so that a client's next request with the same token is not decoded and checked again."""

    @classmethod
    def from_settings(cls, settings: TokenSettings) -> TokenKeys:
        """The verifier a service's settings describe."""
        return cls(secret=settings.jwt_secret.get_secret_value(), public_key=settings.jwt_public_key,
                   issuer=settings.jwt_issuer, audience=settings.jwt_audience, jwks_url=settings.jwt_jwks_url,
                   claims=ClaimNames(settings.jwt_role_claim, settings.jwt_region_claim, settings.jwt_provider_claim),
                   jwks_cache_seconds=settings.jwt_jwks_cache_seconds)

    @functools.cached_property
    def _jwks(self) -> jwt.PyJWKClient:
        return jwt.PyJWKClient(self.jwks_url or "", lifespan=self.jwks_cache_seconds,
                               cooldown_duration=self.jwks_cooldown_seconds, timeout=5)

    def verify(self, token: str) -> Principal:
        """Decode and check a token (signature, exp, iss, aud); Problem 401 when it is not valid. May fetch the
        JWKS (blocking): async callers use `verify_async`."""
        known = self._verified.get(token)
        if known is not None:
            principal, not_before, expires = known
            if not_before <= time.time() < expires:  # PyJWT's own checks, without leeway
                return principal
            del self._verified[token]
        try:
            key, algorithms = self._key(token)
            claims = jwt.decode(token, key, algorithms=algorithms, issuer=self.issuer, audience=self.audience,
                                options={"require": ["exp", "sub", "iss", "aud"]})
            principal = principal_of(claims, self.claims)
        except (jwt.PyJWTError, KeyError, ValueError, TypeError) as error:
            raise Problem(401, "Invalid bearer token", f"token: {type(error).__name__}") from None
        if self.jwks_url is None:
            self._remember(token, principal, claims)
        return principal

    def _remember(self, token: str, principal: Principal, claims: Mapping[str, Any]) -> None:
        if len(self._verified) >= VERIFIED_TOKENS:
            self._verified.clear()
        not_before = claims.get("nbf", float("-inf"))
        self._verified[token] = (principal, float(not_before), float(claims["exp"]))

    async def verify_async(self, token: str) -> Principal:
        """`verify`, off the event loop when the JWKS may have to be fetched."""
        if self.jwks_url is None:
            return self.verify(token)
        return await asyncio.to_thread(self.verify, token)

    def _key(self, token: str) -> tuple[Any, list[str]]:
        if self.jwks_url is not None:
            return self._jwks.get_signing_key_from_jwt(token).key, ASYMMETRIC
        if self.public_key:
            return self.public_key, ASYMMETRIC
        return self.secret, ["HS256"]


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    value: Any = claims
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _put(claims: dict[str, Any], name: str, value: Any) -> None:
    *parents, last = name.split(".")
    for part in parents:
        claims = claims.setdefault(part, {})
    claims[last] = value


def _words(value: Any, name: str) -> tuple[str, ...]:
    """A space-delimited string (RFC 9068 `scope`) or a list of strings, as a tuple of words."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise TypeError(f"{name}: a string or a list of strings")


def _role(value: Any) -> Role:
    if isinstance(value, str):
        return Role(value)
    roles = {Role(item) for item in _words(value, "role") if item in {r.value for r in Role}}
    if len(roles) != 1:
        raise ValueError("role: exactly one Simpul role")
    return roles.pop()


def principal_of(claims: Mapping[str, Any], names: ClaimNames) -> Principal:
    """The caller a verified token's claims describe: a provider token is scoped to its provider id alone."""
    role = _role(_claim(claims, names.role))
    if role is Role.PROVIDER:
        provider = _claim(claims, names.provider)
        if not isinstance(provider, str) or not provider:
            raise KeyError(names.provider)
        scope: tuple[str, ...] = (provider,)
    else:
        scope = _words(_claim(claims, names.regions), names.regions)
    subject = claims["sub"]
    if not isinstance(subject, str):
        raise TypeError("sub: a string")
    return Principal(subject, role, scope, frozenset(_words(claims.get("scope"), "scope")))


@dataclass(frozen=True)
class TokenSigner:
    """How a service issues RFC 9068 access tokens: an HS256 secret (development) or an RS256 private key."""

    key: str
    algorithm: str = "HS256"
    issuer: str = ISSUER
    audience: str = AUDIENCE
    key_id: str | None = None
    claims: ClaimNames = field(default_factory=ClaimNames)

    def sign(self, subject: str, role: Role, scope: Iterable[str], *, now: datetime, lifetime: timedelta,
             permissions: Iterable[str] = (), client_id: str | None = None) -> str:
        """A signed access token (header `typ: at+jwt`) for `subject` in `role` over `scope`."""
        claims: dict[str, Any] = {"iss": self.issuer, "aud": self.audience, "sub": subject,
                                  "iat": now, "nbf": now, "exp": now + lifetime, "jti": uuid.uuid4().hex}
        _put(claims, self.claims.role, role.value)
        scope = list(scope)
        if role is Role.PROVIDER:
            if len(scope) != 1:
                raise ValueError("a provider token names exactly one provider id")
            _put(claims, self.claims.provider, scope[0])
        else:
            _put(claims, self.claims.regions, scope)
        granted = sorted(set(permissions))
        if granted:
            claims["scope"] = " ".join(granted)
        if client_id is not None:
            claims["client_id"] = client_id
        headers = {"typ": ACCESS_TOKEN_TYPE} | ({"kid": self.key_id} if self.key_id else {})
        return jwt.encode(claims, self.key, algorithm=self.algorithm, headers=headers)


    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public half of an RS256 signing key as a JWK Set (what a verifier's `jwt_jwks_url` reads); no keys
        for an HS256 secret, which is never published."""
        if self.algorithm != "RS256":
            return {"keys": []}
        private = serialization.load_pem_private_key(self.key.encode(), password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise TypeError("an RS256 key is an RSA private key")
        public: dict[str, Any] = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
        return {"keys": [public | {"use": "sig", "alg": "RS256"} | ({"kid": self.key_id} if self.key_id else {})]}


def mint_token(secret: str, subject: str, role: Role, scope: list[str], hours: float = 12, *,
               permissions: Iterable[str] = ()) -> str:
    """A development token signed with the HS256 secret (iss and aud `simpul`); a provider's scope is its id."""
    return TokenSigner(secret).sign(subject, role, scope, now=datetime.now(UTC), lifetime=timedelta(hours=hours),
                                    permissions=permissions)


def verifier_of(app: FastAPI) -> TokenKeys:
    """The app's verifier (`create_app` builds it from the service's settings: iss, aud, JWKS, claim names)."""
    keys: TokenKeys = app.state.token_keys
    return keys


def require(*roles: Role, permission: str | None = None) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """FastAPI dependency: the caller, who must hold one of `roles` and, when its token grants OAuth scopes, the
    scope `permission` (RFC 6750 §3.1: 403 `insufficient_scope`). A token with no scope claim (a development
    token, an identity provider's without scopes) is limited by its role and region scope alone."""

    async def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Principal:
        if credentials is None:
            raise HTTPException(401, "Send 'Authorization: Bearer <token>'.", {"WWW-Authenticate": CHALLENGE})
        try:
            principal = await verifier_of(request.app).verify_async(credentials.credentials)
        except Problem as refusal:  # RFC 6750 §3: a refused bearer token is answered with its challenge
            challenge = f'{CHALLENGE}, error="invalid_token"'
            raise HTTPException(401, refusal.detail, {"WWW-Authenticate": challenge}) from None
        if principal.role not in roles:
            raise Problem(403, "Forbidden", f"role {principal.role.value!r} may not do this")
        if permission is not None and principal.permissions and not principal.may(permission):
            reason = f"the token was not granted the {permission} scope"
            raise Problem(403, "Insufficient scope", f"scope: {reason}", [{"field": "scope", "reason": reason}],
                          {"WWW-Authenticate": f'{CHALLENGE}, error="insufficient_scope", scope="{permission}"'})
        return principal

    return dependency
