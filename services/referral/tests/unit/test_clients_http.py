"""POST /oauth/token against the fake: the request as RFC 6749 shapes it (form body, Basic credentials form-urlencoded
then base64, one authentication method, no repeated parameter) and the failed-attempt window."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator
from types import SimpleNamespace
from urllib.parse import quote_plus

import httpx
import jwt
import pytest
from fastapi import FastAPI

from referral.config import ReferralSettings
from referral.domain.clients import SCOPES, ApiClient, hash_secret
from referral.domain.providers import Provider, ProviderType
from referral.entrypoints.http import oauth
from referral.service_layer.fake import FakeReferralUnitOfWork
from simpul_platform.settings import DEV_SECRET

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
CLIENT_ID, SECRET = "cli:jember+1", "sps_a/b c"  # characters Basic must form-urlencode
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    uow = FakeReferralUnitOfWork()
    async with uow:
        await uow.providers.save(Provider("prv_1", "LPA Jember", ProviderType.NGO, frozenset({"35.09"})))
        await uow.api_clients.add(ApiClient(CLIENT_ID, "prv_1", "case system", SCOPES, hash_secret(SECRET),
                                            "officer", NOW))
        await uow.commit()
    app = FastAPI()
    app.include_router(oauth.router)
    settings = ReferralSettings(oauth_max_failures=2, oauth_failure_window_seconds=60)
    app.state.wiring = SimpleNamespace(unit_of_work=lambda: uow, clock=lambda: NOW, settings=settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


def _basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


async def test_basic_credentials_are_form_urlencoded_before_base64(client: httpx.AsyncClient) -> None:
    answer = await client.post("/oauth/token", headers=FORM | _basic(CLIENT_ID, SECRET),
                               content="grant_type=client_credentials&scope=fhir+webhooks")
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["access_token"], DEV_SECRET, algorithms=["HS256"], audience="simpul",
                        options={"verify_exp": False})  # issued at the fixed NOW
    assert (claims["client_id"], claims["provider_id"], claims["scope"]) == (CLIENT_ID, "prv_1", "fhir webhooks")
    assert claims["exp"] - claims["iat"] == 15 * 60


@pytest.mark.parametrize(("content", "headers", "error"), [
    ("grant_type=client_credentials&grant_type=client_credentials", _basic(CLIENT_ID, SECRET), "invalid_request"),
    (f"grant_type=client_credentials&client_id={quote_plus(CLIENT_ID)}&client_secret=x",
     _basic(CLIENT_ID, SECRET), "invalid_request"),
    ("scope=fhir", _basic(CLIENT_ID, SECRET), "invalid_request"),
    ("grant_type=authorization_code", _basic(CLIENT_ID, SECRET), "unsupported_grant_type"),
    ("grant_type=client_credentials&scope=admin", _basic(CLIENT_ID, SECRET), "invalid_scope"),
])
async def test_malformed_requests_get_their_rfc_6749_error(client: httpx.AsyncClient, content: str,
                                                           headers: dict[str, str], error: str) -> None:
    answer = await client.post("/oauth/token", headers=FORM | headers, content=content)
    assert (answer.status_code, answer.json()["error"]) == (400, error), answer.text
    assert answer.headers["Cache-Control"] == "no-store"


async def test_a_json_body_or_garbled_basic_credentials_are_refused(client: httpx.AsyncClient) -> None:
    as_json = await client.post("/oauth/token", json={"grant_type": "client_credentials"},
                                headers=_basic(CLIENT_ID, SECRET))
    assert (as_json.status_code, as_json.json()["error"]) == (400, "invalid_request")
    garbled = await client.post("/oauth/token", headers=FORM | {"Authorization": "Basic !!!"},
                                content="grant_type=client_credentials")
    assert (garbled.status_code, garbled.json()["error"]) == (401, "invalid_client")
    assert garbled.headers["WWW-Authenticate"].startswith("Basic")


async def test_after_the_failures_allowed_even_the_right_secret_waits(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        wrong = await client.post("/oauth/token", headers=FORM | _basic(CLIENT_ID, "sps_guess"),
                                  content="grant_type=client_credentials")
        assert wrong.status_code == 401
    limited = await client.post("/oauth/token", headers=FORM | _basic(CLIENT_ID, SECRET),
                                content="grant_type=client_credentials")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_the_failure_window_slides() -> None:
    attempts = oauth.FailedAttempts(limit=2, window=60)
    attempts.failed("cli_1", 0)
    attempts.failed("cli_1", 30)
    assert attempts.retry_after("cli_1", 31) == 29
    assert attempts.retry_after("cli_2", 31) is None
    assert attempts.retry_after("cli_1", 60) is None  # the first failure left the window
