"""Provider tokens on the real broker and PostgreSQL: a district officer registers an API client for a provider, the
client exchanges its credentials at POST /oauth/token (RFC 6749 client credentials) for an RFC 9068 access token,
and that token reaches the provider's own referral and nothing else. Refused, each: a wrong secret, a revoked
client, an expired token, a token for another audience, another provider's token (404 on the other's referral,
not 403); and the grant's own errors (RFC 6749 §5.2)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from referral.adapters.client_repository import api_clients
from referral.adapters.orm import audit_log
from simpul_platform.auth import Role, TokenSigner
from simpul_platform.settings import DEV_SECRET
from tests.support.referral_directory import GateState, provider_in_state
from tests.support.referral_referrals import OFFICER, Referral, referred
from tests.support.stack import running, settings_for


def _now() -> dt.datetime:
    """Now, when the test runs (not when the module was collected: tokens live minutes, the suite longer)."""
    return dt.datetime.now(dt.UTC)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def rows(url: str, query: Any) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return list(await connection.execute(query))
    finally:
        await engine.dispose()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _client_of(service: Referral, provider_id: str, **body: Any) -> dict[str, Any]:
    answer = await service.client.post(f"/providers/{provider_id}/clients", headers=OFFICER,
                                       json={"name": "case system"} | body)
    assert answer.status_code == 201, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    created: dict[str, Any] = answer.json()
    return created


async def _token(service: Referral, client: dict[str, Any], secret: str | None = None,
                 **form: str) -> httpx.Response:
    return await service.client.post("/oauth/token", headers=FORM | _basic(client["client_id"],
                                                                            secret or client["client_secret"]),
                                     content=str(httpx.QueryParams({"grant_type": "client_credentials"} | form)))


async def test_a_providers_token_reaches_its_own_referral_and_every_bad_token_is_refused(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    settings = settings_for("referral", url, kafka_bootstrap, namespace, oauth_max_failures=3)
    async with running({"referral": settings}) as stack:
        service = Referral(stack.apps["referral"], stack.clients["referral"])
        mine, theirs = [await provider_in_state(service.units(), GateState.ELIGIBLE, on=_now().date(),
                                                organisation=name) for name in ("LPA Jember", "Yayasan Lain")]
        referral_id = await referred(service, kafka_bootstrap, namespace, "chd_tokens", mine)
        client = await _client_of(service, mine)
        other = await _client_of(service, theirs, scopes=["referrals:read", "referrals:write"])

        granted = await _token(service, client)
        assert granted.status_code == 200, granted.text
        assert granted.headers["Cache-Control"] == "no-store"
        body = granted.json()
        assert (body["token_type"], body["expires_in"]) == ("Bearer", 900)
        assert body["scope"] == "fhir referrals:read referrals:write services:write webhooks"
        token = body["access_token"]
        assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
        claims = jwt.decode(token, DEV_SECRET, algorithms=["HS256"], audience="simpul")
        assert (claims["sub"], claims["client_id"], claims["provider_id"], claims["iss"]) == (
            client["client_id"], client["client_id"], mine, "simpul")
        assert {"exp", "iat", "jti"} <= claims.keys()

        # The good token reaches the provider's own referral.
        read = await service.client.get(f"/provider/referrals/{referral_id}", headers=_bearer(token))
        assert read.status_code == 200, read.text
        moved = await service.client.post(f"/provider/referrals/{referral_id}/acknowledge", headers=_bearer(token))
        assert moved.status_code == 200, moved.text
        # ... and no district route.
        assert (await service.client.get("/providers", headers=_bearer(token))).status_code == 403

        # Another provider's token: the referral does not exist for it (404, not 403).
        others = (await _token(service, other)).json()
        assert others["scope"] == "referrals:read referrals:write"
        for answer in (await service.client.get(f"/provider/referrals/{referral_id}",
                                                headers=_bearer(others["access_token"])),
                       await service.client.post(f"/provider/referrals/{referral_id}/accept",
                                                 headers=_bearer(others["access_token"]))):
            assert answer.status_code == 404, answer.text

        # A token for another audience, and an expired one, are refused.
        signer = TokenSigner(DEV_SECRET, audience="simpul-elsewhere")
        elsewhere = signer.sign(client["client_id"], Role.PROVIDER, [mine], now=_now(),
                                lifetime=dt.timedelta(minutes=5))
        wiring = service.app.state.wiring
        service.app.state.wiring = dataclasses.replace(wiring, clock=lambda: _now() - dt.timedelta(hours=1))
        expired = (await _token(service, client)).json()["access_token"]
        service.app.state.wiring = wiring
        for bad in (elsewhere, expired, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")):
            refused = await service.client.get(f"/provider/referrals/{referral_id}", headers=_bearer(bad))
            assert refused.status_code == 401, refused.text

        # A wrong secret, then a revoked client, get no token.
        wrong = await _token(service, client, secret=client["client_secret"] + "x")
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
        assert wrong.headers["WWW-Authenticate"].startswith("Basic")
        revoked = await service.client.post(f"/providers/{mine}/clients/{client['client_id']}/revoke",
                                             headers=OFFICER)
        assert revoked.json()["status"] == "revoked"
        after = await _token(service, client)
        assert (after.status_code, after.json()["error"]) == (401, "invalid_client")

        listed = (await service.client.get(f"/providers/{mine}/clients", headers=OFFICER)).json()
        assert [c["client_id"] for c in listed] == [client["client_id"]]
        assert "client_secret" not in listed[0]
        stored = await rows(url, select(api_clients.c.secret_hash, api_clients.c.previous_hash))
        assert all(client["client_secret"] not in str(row) for row in stored)
        actions = await rows(url, select(audit_log.c.action).where(audit_log.c.resource == "api_client"))
        assert sorted({a for (a,) in actions}) == ["register", "revoke", "token", "token_refused"]


async def test_rotation_overlaps_the_old_secret_and_the_grant_answers_rfc_6749_errors(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    settings = settings_for("referral", url, kafka_bootstrap, namespace, oauth_max_failures=3)
    async with running({"referral": settings}) as stack:
        service = Referral(stack.apps["referral"], stack.clients["referral"])
        provider_id = await provider_in_state(service.units(), GateState.ELIGIBLE, on=_now().date())
        client = await _client_of(service, provider_id, scopes=["referrals:read", "referrals:write"])
        rotate = f"/providers/{provider_id}/clients/{client['client_id']}/rotate"
        rotated = (await service.client.post(rotate, headers=OFFICER, json={"overlap_seconds": 600})).json()
        assert rotated["client_secret"] != client["client_secret"]
        assert (await _token(service, client)).status_code == 200  # the old secret, inside the overlap
        assert (await _token(service, rotated)).status_code == 200
        leaked = (await service.client.post(rotate, headers=OFFICER, json={"overlap_seconds": 0})).json()
        assert (await _token(service, rotated)).status_code == 401
        # Body authentication works too, and a subset of the scopes can be asked for.
        in_body = await service.client.post("/oauth/token", headers=FORM, content=str(httpx.QueryParams({
            "grant_type": "client_credentials", "client_id": client["client_id"],
            "client_secret": leaked["client_secret"], "scope": "referrals:read"})))
        assert (in_body.status_code, in_body.json()["scope"]) == (200, "referrals:read"), in_body.text

        errors = [
            (await _token(service, leaked, scope="webhooks"), 400, "invalid_scope"),
            (await _token(service, leaked, grant_type="password"), 400, "unsupported_grant_type"),
            (await service.client.post("/oauth/token", json={"grant_type": "client_credentials"},
                                       headers=_basic(client["client_id"], leaked["client_secret"])),
             400, "invalid_request"),
            (await service.client.post("/oauth/token", headers=FORM, content="grant_type=client_credentials"),
             401, "invalid_client"),
        ]
        for answer, status, error in errors:
            assert (answer.status_code, answer.json()["error"]) == (status, error), answer.text
            assert answer.headers["Cache-Control"] == "no-store"
        # Failed attempts on one client: after three, even the right secret waits.
        for _ in range(3):
            await _token(service, leaked, secret="sps_guess")
        limited = await _token(service, leaked)
        assert limited.status_code == 429, limited.text
        assert int(limited.headers["Retry-After"]) >= 1


async def test_with_an_rs256_key_tokens_are_signed_by_it_and_its_jwks_is_published(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    url = make_database("referral")
    settings = settings_for("referral", url, kafka_bootstrap, namespace, oauth_private_key=pem,
                            oauth_key_id="referral-1", jwt_public_key=public)
    officer = TokenSigner(pem, "RS256").sign("officer-jember", Role.DISTRICT_OFFICER, ["35.09"], now=_now(),
                                             lifetime=dt.timedelta(minutes=5))
    async with running({"referral": settings}) as stack:
        service = Referral(stack.apps["referral"], stack.clients["referral"])
        provider_id = await provider_in_state(service.units(), GateState.ELIGIBLE, on=_now().date())
        # A development (HS256) token means nothing once the service verifies with a public key.
        assert (await service.client.get(f"/providers/{provider_id}/clients", headers=OFFICER)).status_code == 401
        answer = await service.client.post(f"/providers/{provider_id}/clients", headers=_bearer(officer),
                                           json={"name": "case system"})
        assert answer.status_code == 201, answer.text
        token = (await _token(service, answer.json())).json()["access_token"]
        assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "at+jwt", "kid": "referral-1"}
        [key] = (await service.client.get("/oauth/jwks.json")).json()["keys"]
        claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience="simpul")
        assert claims["provider_id"] == provider_id
        synced = await service.client.get("/provider/referrals", headers=_bearer(token))
        assert synced.status_code == 200, synced.text
