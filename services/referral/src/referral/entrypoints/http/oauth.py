"""`POST /oauth/token`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for providers' API clients.

The request is `application/x-www-form-urlencoded` with `grant_type=client_credentials` and an optional `scope`
(space-delimited, a subset of the client's). The client authenticates with HTTP Basic (RFC 6749 §2.3.1: id and
secret form-urlencoded, then base64) or with `client_id` and `client_secret` in the body, never both. The answer is
an RFC 9068 access token (`typ: at+jwt`; iss, aud, exp, iat, jti, sub and client_id = the client, scope, and the
provider id claim that scopes a provider token), `Cache-Control: no-store`. Errors are RFC 6749 §5.2 JSON (not
problem+json: OAuth client libraries read `error`): `invalid_request`, `unsupported_grant_type`, `invalid_scope` 400
and `invalid_client` 401 with `WWW-Authenticate`. After `oauth_max_failures` failed attempts on one client id within
`oauth_failure_window_seconds` this replica answers 429 with `Retry-After` (even to the right secret) until the
window has passed.

`GET /oauth/jwks.json` publishes the public key when tokens are signed with an RS256 private key
(`oauth_private_key`, `oauth_key_id`), so the other services can verify them through `jwt_jwks_url`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import time
from collections import deque
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from referral.config import ReferralSettings
from referral.domain.commands.clients import RequestToken
from referral.service_layer.handlers import clients as handlers
from simpul_platform.auth import ClaimNames, Role, TokenSigner
from simpul_platform.unit_of_work import execute

GRANT_TYPE = "client_credentials"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_BODY = 4096
router = APIRouter(tags=["oauth"])


class OAuthError(Exception):
    """An RFC 6749 §5.2 error answer."""

    def __init__(self, error: str, description: str, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(description)
        self.error, self.description, self.status, self.headers = error, description, status, headers or {}

    def response(self) -> JSONResponse:
        """The JSON error body with no-store headers."""
        return JSONResponse({"error": self.error, "error_description": self.description}, self.status,
                            headers=NO_STORE | self.headers)


def _invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401, {"WWW-Authenticate": 'Basic realm="simpul", charset="UTF-8"'})


class FailedAttempts:
    """Failed token requests per client id in a sliding window (per replica, in memory)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.failures: dict[str, deque[float]] = {}

    def retry_after(self, client_id: str, now: float) -> int | None:
        """Seconds until the client may try again, None when it may now."""
        failures = self.failures.get(client_id)
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures or len(failures) < self.limit:
            return None
        return max(1, int(failures[0] + self.window - now + 0.999))

    def failed(self, client_id: str, now: float) -> None:
        """Count a failure (forgetting idle clients when many are tracked)."""
        if len(self.failures) > 10_000:
            self.failures = {k: v for k, v in self.failures.items() if v and v[-1] > now - self.window}
        self.failures.setdefault(client_id, deque(maxlen=self.limit)).append(now)


def _state(app: FastAPI) -> tuple[TokenSigner, FailedAttempts]:
    """The app's signer and failure counter, built once from its settings."""
    built: tuple[TokenSigner, FailedAttempts] | None = getattr(app.state, "oauth", None)
    if built is None:
        settings: ReferralSettings = app.state.wiring.settings
        names = ClaimNames(settings.jwt_role_claim, settings.jwt_region_claim, settings.jwt_provider_claim)
        private = settings.oauth_private_key
        key, algorithm = ((private.get_secret_value(), "RS256") if private is not None
                          else (settings.jwt_secret.get_secret_value(), "HS256"))
        signer = TokenSigner(key, algorithm, settings.jwt_issuer, settings.jwt_audience, settings.oauth_key_id, names)
        built = signer, FailedAttempts(settings.oauth_max_failures, settings.oauth_failure_window_seconds)
        app.state.oauth = built
    return built


def _form(body: bytes, content_type: str) -> dict[str, str]:
    if content_type.split(";", maxsplit=1)[0].strip().lower() != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=False, strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "the body is not UTF-8") from None
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise OAuthError("invalid_request", f"repeated parameter(s): {', '.join(repeated)}")
    return dict(pairs)


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, colon, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client("malformed Basic credentials") from None
    if not colon or not client_id:
        raise _invalid_client("malformed Basic credentials")
    return unquote_plus(client_id), unquote_plus(secret)


def _credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    basic = _basic(request.headers.get("authorization", ""))
    in_body = "client_id" in form or "client_secret" in form
    if basic is not None and in_body:
        raise OAuthError("invalid_request", "authenticate with HTTP Basic or with the body, not both")
    if basic is not None:
        return basic
    if "client_id" not in form or "client_secret" not in form:
        raise _invalid_client("client authentication required (HTTP Basic, or client_id and client_secret)")
    return form["client_id"], form["client_secret"]


def _token_request(request: Request, form: dict[str, str]) -> RequestToken:
    grant_type = form.get("grant_type")
    if grant_type is None:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != GRANT_TYPE:
        raise OAuthError("unsupported_grant_type", f"only {GRANT_TYPE} is supported")
    client_id, secret = _credentials(request, form)
    scope = form.get("scope")
    scopes = None if scope is None else frozenset(scope.split(" ")) - {""}
    now: dt.datetime = request.app.state.wiring.clock()
    return RequestToken(client_id[:200], secret[:500], scopes, now)


async def _grant(request: Request, form: dict[str, str]) -> dict[str, Any]:
    command = _token_request(request, form)
    signer, failures = _state(request.app)
    monotonic = time.monotonic()
    wait = failures.retry_after(command.client_id, monotonic)
    if wait is not None:
        raise OAuthError("invalid_request", "too many failed attempts for this client", 429,
                         {"Retry-After": str(wait)})
    decision = await execute(request.app.state.wiring.unit_of_work(), handlers.request_token, command)
    if isinstance(decision, handlers.Refusal):
        if decision.error is handlers.TokenError.INVALID_CLIENT:
            failures.failed(command.client_id, monotonic)
            raise _invalid_client(decision.description)
        raise OAuthError(decision.error.value, decision.description)
    settings: ReferralSettings = request.app.state.wiring.settings
    lifetime = dt.timedelta(minutes=settings.oauth_token_minutes)
    token = signer.sign(decision.client_id, Role.PROVIDER, [decision.provider_id], now=command.at, lifetime=lifetime,
                        permissions=decision.scopes, client_id=decision.client_id)
    return {"access_token": token, "token_type": "Bearer", "expires_in": int(lifetime.total_seconds()),
            "scope": " ".join(sorted(decision.scopes))}


_OAUTH_ERROR = {"application/json": {"schema": {
    "type": "object", "required": ["error"], "description": "An RFC 6749 §5.2 error",
    "properties": {"error": {"type": "string", "enum": ["invalid_request", "invalid_client", "invalid_scope",
                                                        "unsupported_grant_type"]},
                   "error_description": {"type": "string"}}}}}
TOKEN_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "An access token", "content": {"application/json": {"schema": {
        "type": "object", "required": ["access_token", "token_type", "expires_in", "scope"],
        "properties": {"access_token": {"type": "string"}, "token_type": {"type": "string", "enum": ["Bearer"]},
                       "expires_in": {"type": "integer"}, "scope": {"type": "string"}}}}}},
    400: {"description": "invalid_request, unsupported_grant_type or invalid_scope (RFC 6749 §5.2)",
          "content": _OAUTH_ERROR},
    401: {"description": "invalid_client: unknown client, wrong secret, revoked client", "content": _OAUTH_ERROR},
    429: {"description": "Too many failed attempts for this client; see Retry-After", "content": _OAUTH_ERROR},
}


@router.post("/oauth/token", summary="Exchange client credentials for an access token", responses=TOKEN_RESPONSES,
             openapi_extra={"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
                 "schema": {"type": "object", "required": ["grant_type"], "additionalProperties": {"type": "string"},
                            "properties": {
                     "grant_type": {"type": "string", "enum": [GRANT_TYPE]},
                     "scope": {"type": "string", "description": "Space-delimited subset of the client's scopes"},
                     "client_id": {"type": "string"}, "client_secret": {"type": "string"}}}}}}})
async def token(request: Request) -> JSONResponse:
    """The client-credentials grant (RFC 6749 §4.4): a short-lived RFC 9068 access token for the client's
    provider."""
    try:
        body = await request.body()
        if len(body) > MAX_BODY:
            raise OAuthError("invalid_request", f"the body is over {MAX_BODY} bytes")
        answer = await _grant(request, _form(body, request.headers.get("content-type", "")))
    except OAuthError as refusal:
        return refusal.response()
    return JSONResponse(answer, headers=NO_STORE)


@router.get("/oauth/jwks.json", summary="The public keys verifying access tokens (JWK Set)")
async def jwks(request: Request) -> JSONResponse:
    """The RS256 public key of the token endpoint (empty while tokens are signed with the HS256 secret): other
    services set `jwt_jwks_url` to this address and pick up a new key (`oauth_key_id`) on rotation."""
    signer, _ = _state(request.app)
    return JSONResponse(signer.jwks(), headers={"Cache-Control": "public, max-age=300"})
