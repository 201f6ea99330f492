"""Bearer tokens (JWT) carrying a role and a scope; least privilege unless a token says otherwise."""

from __future__ import annotations

import enum
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from simpul_platform.problems import Problem

ISSUER = "simpul"
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
    """The authenticated caller: who, in what role, over which region codes or provider ids."""

    subject: str
    role: Role
    scope: tuple[str, ...]

    def covers_region(self, code: str) -> bool:
        """True when a region code (village, district...) lies inside this caller's scope."""
        return any(code == s or code.startswith(s + ".") for s in self.scope)


@dataclass(frozen=True)
class TokenKeys:
    """How tokens are verified: an HS256 secret (development) or an RS256/ES256 public key."""

    secret: str
    public_key: str | None = None

    def verify(self, token: str) -> Principal:
        """Decode and check a token; Problem 401 when it is not valid."""
        key, algorithms = (self.public_key, ["RS256", "ES256"]) if self.public_key else (self.secret, ["HS256"])
        try:
            claims = jwt.decode(token, key, algorithms=algorithms, issuer=ISSUER, options={"require": ["exp", "sub"]})
            return Principal(subject=claims["sub"], role=Role(claims["role"]), scope=tuple(claims.get("scope", ())))
        except (jwt.PyJWTError, KeyError, ValueError) as error:
            raise Problem(401, "Invalid bearer token", f"token: {type(error).__name__}") from None


def mint_token(secret: str, subject: str, role: Role, scope: list[str], hours: float = 12) -> str:
    """A development token signed with the HS256 secret."""
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "role": role.value,
        "scope": scope,
        "iat": now,
        "exp": now + timedelta(hours=hours),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def require(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """FastAPI dependency: the caller, who must hold one of `roles`."""

    async def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Principal:
        if credentials is None:
            raise Problem(401, "Authentication required", "Send 'Authorization: Bearer <token>'.")
        keys: TokenKeys = request.app.state.token_keys
        principal = keys.verify(credentials.credentials)
        if principal.role not in roles:
            raise Problem(403, "Forbidden", f"role {principal.role.value!r} may not do this")
        return principal

    return dependency
