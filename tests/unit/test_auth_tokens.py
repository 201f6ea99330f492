"""Bearer tokens as RFC 9068 defines them: iss and aud checked, `scope` a space-delimited string of OAuth scopes
(never a region scope), role and regions from configurable claims, RS256 keys from a JWKS URL that rotates."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI
from jwt.algorithms import RSAAlgorithm

from simpul_platform.auth import ClaimNames, Principal, Role, TokenKeys, TokenSigner, mint_token, require
from simpul_platform.problems import Problem, install_problem_handlers
from simpul_platform.settings import DEV_SECRET, ServiceSettings


def _now() -> datetime:
    """Now, when the test runs (not when the module was collected: tokens live minutes, the suite longer)."""
    return datetime.now(UTC)


def _claims(**extra: Any) -> dict[str, Any]:
    return {"iss": "simpul", "aud": "simpul", "sub": "officer", "role": "district_officer", "regions": ["35.09"],
            "iat": _now(), "exp": _now() + timedelta(minutes=5)} | extra


def _hs256(**extra: Any) -> str:
    return jwt.encode(_claims(**extra), DEV_SECRET, algorithm="HS256")


def _refused(keys: TokenKeys, token: str) -> str:
    with pytest.raises(Problem) as refusal:
        keys.verify(token)
    assert refusal.value.status == 401
    return str(refusal.value.detail)


DEV = TokenKeys(DEV_SECRET)


def test_a_development_token_still_verifies_with_its_region_scope() -> None:
    principal = DEV.verify(mint_token(DEV_SECRET, "kader", Role.CADRE, ["35.09.11.2007"]))
    assert principal == Principal("kader", Role.CADRE, ("35.09.11.2007",))
    assert principal.covers_region("35.09.11.2007")
    assert not principal.covers_region("35.09.11.2008")


@pytest.mark.parametrize("claims", [{"aud": "another-api"}, {"aud": None}, {"iss": "https://elsewhere"}])
def test_a_token_for_another_audience_or_from_another_issuer_is_refused(claims: dict[str, Any]) -> None:
    token = jwt.encode({k: v for k, v in _claims(**claims).items() if v is not None}, DEV_SECRET, algorithm="HS256")
    _refused(DEV, token)


def test_the_expected_audience_and_issuer_are_configurable() -> None:
    keys = TokenKeys(DEV_SECRET, issuer="https://idp.jember.go.id", audience="simpul-referral")
    good = _hs256(iss="https://idp.jember.go.id", aud=["simpul-referral", "account"])
    assert keys.verify(good).subject == "officer"
    assert "InvalidAudienceError" in _refused(keys, _hs256(iss="https://idp.jember.go.id"))


def test_scope_is_a_space_delimited_string_of_permissions_not_the_region_scope() -> None:
    principal = DEV.verify(_hs256(scope="openid profile referrals:read"))
    assert principal.permissions == {"openid", "profile", "referrals:read"}
    assert principal.scope == ("35.09",)
    assert principal.may("referrals:read")
    assert not principal.may("o")


def test_an_identity_providers_claims_map_onto_role_and_regions() -> None:
    keycloak = TokenKeys(DEV_SECRET, claims=ClaimNames(role="realm_access.roles", regions="simpul_regions"))
    token = _hs256(role=None, regions=None, realm_access={"roles": ["offline_access", "district_officer"]},
                   simpul_regions="35.09 52.03", scope="openid email")
    principal = keycloak.verify(token)
    assert (principal.role, principal.scope) == (Role.DISTRICT_OFFICER, ("35.09", "52.03"))
    assert principal.permissions == {"openid", "email"}
    two_roles = _hs256(role=None, realm_access={"roles": ["cadre", "ministry"]})
    assert "ValueError" in _refused(keycloak, two_roles)


def test_a_provider_token_is_scoped_to_its_provider_id_alone() -> None:
    principal = DEV.verify(mint_token(DEV_SECRET, "client-1", Role.PROVIDER, ["prv_1"]))
    assert (principal.role, principal.scope) == (Role.PROVIDER, ("prv_1",))
    # A provider token naming regions instead of its provider reaches nothing.
    _refused(DEV, _hs256(role="provider", regions=["35.09"]))


def test_a_signed_access_token_has_the_rfc_9068_header_and_claims() -> None:
    signer = TokenSigner(DEV_SECRET, audience="simpul")
    token = signer.sign("cli_1", Role.PROVIDER, ["prv_1"], now=_now(), lifetime=timedelta(minutes=15),
                        permissions=["referrals:write", "referrals:read"], client_id="cli_1")
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    claims = jwt.decode(token, DEV_SECRET, algorithms=["HS256"], audience="simpul")
    assert {"iss", "aud", "exp", "iat", "jti", "sub", "client_id"} <= claims.keys()
    assert claims["scope"] == "referrals:read referrals:write"
    assert claims["exp"] - claims["iat"] == 900
    assert DEV.verify(token).permissions == {"referrals:read", "referrals:write"}


def test_an_hs256_token_is_refused_when_a_public_key_is_configured() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    keys = TokenKeys(DEV_SECRET, public_key=public_pem)
    _refused(keys, _hs256())
    assert keys.verify(jwt.encode(_claims(), private, algorithm="RS256")).subject == "officer"


class _Jwks:
    """A JWKS document served on 127.0.0.1 whose keys a test can rotate."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0

    def add(self, kid: str) -> rsa.RSAPrivateKey:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self.keys[kid]

    def document(self) -> bytes:
        self.fetches += 1
        keys = [json.loads(RSAAlgorithm.to_jwk(k.public_key())) | {"kid": kid, "use": "sig", "alg": "RS256"}
                for kid, k in self.keys.items()]
        return json.dumps({"keys": keys}).encode()

    def token(self, kid: str, **extra: Any) -> str:
        return jwt.encode(_claims(**extra), self.keys[kid], algorithm="RS256", headers={"kid": kid})


@contextlib.contextmanager
def _serving(document: Callable[[], bytes]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = document()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def test_rs256_tokens_verify_against_a_jwks_url_through_a_key_rotation() -> None:
    jwks = _Jwks()
    jwks.add("2026-11")
    with _serving(jwks.document) as url:
        keys = TokenKeys(DEV_SECRET, jwks_url=url, jwks_cache_seconds=0.5, jwks_cooldown_seconds=0)
        assert keys.verify(jwks.token("2026-11")).subject == "officer"
        assert keys.verify(jwks.token("2026-11")).subject == "officer"
        assert jwks.fetches == 1  # the set is cached
        jwks.add("2026-12")  # the identity provider rotates: a new key, the old one still published
        assert keys.verify(jwks.token("2026-12", sub="after-rotation")).subject == "after-rotation"
        assert keys.verify(jwks.token("2026-11")).subject == "officer"
        old = jwks.token("2026-11")
        del jwks.keys["2026-11"]  # the old key is withdrawn: once the cached set expires, its tokens are refused
        time.sleep(0.6)
        _refused(keys, old)
        assert keys.verify(jwks.token("2026-12")).subject == "officer"
        _refused(keys, _hs256())  # the development secret means nothing once a JWKS is configured
        forged = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _refused(keys, jwt.encode(_claims(), forged, algorithm="RS256", headers={"kid": "2026-12"}))


async def test_routes_verify_with_the_services_configured_audience_and_claims() -> None:
    app = FastAPI()
    install_problem_handlers(app)
    settings = ServiceSettings(jwt_audience="simpul-registry", jwt_role_claim="simpul_role")
    app.state.token_keys = TokenKeys.from_settings(settings)  # as create_app builds it

    @app.get("/who")
    async def who(principal: Principal = Depends(require(Role.DISTRICT_OFFICER))) -> dict[str, Any]:  # noqa: B008
        return {"subject": principal.subject, "scope": list(principal.scope)}

    good = _hs256(aud="simpul-registry", role=None, simpul_role="district_officer")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answered = await client.get("/who", headers={"Authorization": f"Bearer {good}"})
        refused = await client.get("/who", headers={"Authorization": f"Bearer {_hs256()}"})
        anonymous = await client.get("/who")
    assert (anonymous.status_code, anonymous.headers["WWW-Authenticate"]) == (401, 'Bearer realm="simpul"')
    assert answered.json() == {"subject": "officer", "scope": ["35.09"]}
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="simpul", error="invalid_token"'
    assert refused.headers["content-type"] == "application/problem+json"
    assert "InvalidAudienceError" in refused.json()["detail"]


def test_rs256_access_tokens_verify_against_the_signers_own_jwks() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    signer = TokenSigner(pem, "RS256", key_id="referral-2026-12")
    [published] = signer.jwks()["keys"]
    assert (published["kid"], published["alg"], published["kty"]) == ("referral-2026-12", "RS256", "RSA")
    assert "d" not in published  # the public half only
    assert TokenSigner(DEV_SECRET).jwks() == {"keys": []}  # an HS256 secret is never published
    with _serving(lambda: json.dumps(signer.jwks()).encode()) as url:
        keys = TokenKeys(DEV_SECRET, jwks_url=url)
        token = signer.sign("cli_1", Role.PROVIDER, ["prv_1"], now=_now(), lifetime=timedelta(minutes=15))
        assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "at+jwt", "kid": "referral-2026-12"}
        assert keys.verify(token).scope == ("prv_1",)


async def test_a_route_needing_a_scope_refuses_a_token_granted_others_with_insufficient_scope() -> None:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_keys = TokenKeys(DEV_SECRET)

    writer = Depends(require(Role.PROVIDER, permission="services:write"))

    @app.get("/records")
    async def records(principal: Principal = writer) -> dict[str, str]:
        return {"subject": principal.subject}

    def bearer(*permissions: str) -> dict[str, str]:
        token = mint_token(DEV_SECRET, "client", Role.PROVIDER, ["prv_1"], permissions=permissions)
        return {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        refused = await client.get("/records", headers=bearer("referrals:read"))
        granted = await client.get("/records", headers=bearer("referrals:read", "services:write"))
        unscoped = await client.get("/records", headers=bearer())  # a development token: its role limits it
    assert refused.status_code == 403
    assert refused.headers["WWW-Authenticate"] == (
        'Bearer realm="simpul", error="insufficient_scope", scope="services:write"')
    reason = "the token was not granted the services:write scope"
    assert refused.json()["errors"] == [{"field": "scope", "reason": reason}]
    assert (granted.status_code, unscoped.status_code) == (200, 200)
