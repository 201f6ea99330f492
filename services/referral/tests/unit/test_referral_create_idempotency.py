"""POST /referrals takes an Idempotency-Key (the platform's rules, as every service): a retry after a lost answer
gets the first referral, not a second one; another body with the key is a 422; without a key it simply runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from referral.config import ReferralSettings
from referral.entrypoints.http import referrals
from referral.service_layer.fake import FakeReferralUnitOfWork
from simpul_contracts.events.referral import referrals as wire
from simpul_platform.auth import Role, TokenKeys, mint_token
from simpul_platform.problems import install_problem_handlers

from .test_referrals import AT, JEMBER, SCHOOL, world

SECRET = "test-secret-of-at-least-32-bytes-long"
OFFICER = {"Authorization": f"Bearer {mint_token(SECRET, 'officer-jember', Role.DISTRICT_OFFICER, [JEMBER])}"}
BODY = {"child_id": "c1", "person_id": "p1", "district": JEMBER, "provider_id": "lpa", "service_types": [SCHOOL]}


@pytest.fixture
async def uow() -> FakeReferralUnitOfWork:
    return await world()


@pytest.fixture
async def client(uow: FakeReferralUnitOfWork) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(referrals.router)
    app.state.token_keys = TokenKeys(secret=SECRET)
    app.state.wiring = SimpleNamespace(unit_of_work=lambda: uow, clock=lambda: AT, settings=ReferralSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


def issued(uow: FakeReferralUnitOfWork) -> list[wire.ReferralIssuedV1]:
    return [e for e in uow.published if isinstance(e, wire.ReferralIssuedV1)]


async def test_a_retry_with_the_key_gets_the_first_referral(client: httpx.AsyncClient,
                                                            uow: FakeReferralUnitOfWork) -> None:
    key = OFFICER | {"Idempotency-Key": "refer-c1-once"}
    first = await client.post("/referrals", json=BODY, headers=key)
    again = await client.post("/referrals", json=BODY, headers=key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json()
    assert (again.headers["Idempotent-Replayed"], again.headers["Location"]) == (
        "true", f"/referrals/{first.json()['referral_id']}")
    assert first.headers["ETag"] == again.headers["ETag"]
    assert len(issued(uow)) == 1


async def test_the_key_with_another_body_is_a_422_naming_it(client: httpx.AsyncClient,
                                                             uow: FakeReferralUnitOfWork) -> None:
    key = OFFICER | {"Idempotency-Key": "refer-c1-once"}
    assert (await client.post("/referrals", json=BODY, headers=key)).status_code == 201
    other = await client.post("/referrals", json=BODY | {"provider_id": "lpa2"}, headers=key)
    assert other.status_code == 422, other.text
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert len(issued(uow)) == 1


async def test_without_a_key_each_request_is_its_own(client: httpx.AsyncClient, uow: FakeReferralUnitOfWork) -> None:
    first = await client.post("/referrals", json=BODY, headers=OFFICER)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    assert len(issued(uow)) == 1
