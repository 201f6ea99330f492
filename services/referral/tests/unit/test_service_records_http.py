"""The service-record routes on the fake: Idempotency-Key per the IETF draft (required: 400 without; a retry gets
the stored answer marked as a replay and changes nothing; another body with the key is a 422 naming it; keys are
the client's own; they expire after the configured window), body limits (413 before the body is read whole), the
batch's 500-record bound (422 naming `records`) and its result per record."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from referral.config import ReferralSettings
from referral.domain.lifecycle import ReferralStatus
from referral.entrypoints.http import provider_services
from referral.service_layer.fake import FakeReferralUnitOfWork
from simpul_contracts.events.referral import referrals as wire
from simpul_platform.auth import Role, TokenKeys, mint_token
from simpul_platform.problems import install_problem_handlers

from .test_service_records import LPA, NOW, OTHER, SHA, referral

SECRET = "test-secret-of-at-least-32-bytes-long"
ME = {"Authorization": f"Bearer {mint_token(SECRET, 'lpa-client', Role.PROVIDER, [LPA])}"}
THEM = {"Authorization": f"Bearer {mint_token(SECRET, 'other-client', Role.PROVIDER, [OTHER])}"}
RECORD = {"service_type": "child.school_re_entry", "delivered_on": "2026-03-09", "attendance": "attended",
          "outcome": "in_progress", "notes": "first week back",
          "attachments": [{"url": "https://f.example/a.pdf", "sha256": SHA}]}


@pytest.fixture
async def uow() -> FakeReferralUnitOfWork:
    fake = FakeReferralUnitOfWork()
    async with fake:
        for n in range(1, 4):
            await fake.referrals.save(referral(f"r{n}"))
        await fake.referrals.save(referral("r9", OTHER))
        await fake.commit()
    fake.published.clear()
    return fake


@pytest.fixture
def clock() -> list[dt.datetime]:
    return [NOW]


@pytest.fixture
async def client(uow: FakeReferralUnitOfWork, clock: list[dt.datetime]) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(provider_services.router)
    app.state.token_keys = TokenKeys(secret=SECRET)
    settings = ReferralSettings(service_record_max_bytes=4096, service_record_batch_max_bytes=400_000)
    app.state.wiring = SimpleNamespace(unit_of_work=lambda: uow, clock=lambda: clock[0], settings=settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def push(client: httpx.AsyncClient, body: Any, key: str | None = "k-1", referral_id: str = "r1",
               auth: dict[str, str] = ME) -> httpx.Response:
    headers = auth | ({"Idempotency-Key": key} if key is not None else {})
    return await client.post(f"/provider/referrals/{referral_id}/service-records", json=body, headers=headers)


def recorded(uow: FakeReferralUnitOfWork) -> list[wire.ReferralServiceRecordedV1]:
    return [e for e in uow.published if isinstance(e, wire.ReferralServiceRecordedV1)]


def problem_field(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    field: str = answer.json()["errors"][0]["field"]
    return field


async def test_a_retry_gets_the_same_answer_and_makes_one_record_and_one_event(
        client: httpx.AsyncClient, uow: FakeReferralUnitOfWork) -> None:
    first = await push(client, RECORD)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    body = first.json()
    assert (body["referral_id"], body["outcome"], body["recorded_by"]) == ("r1", "in_progress", "lpa-client")
    again = await push(client, dict(reversed(RECORD.items())))  # the same body, fields in another order
    assert (again.status_code, again.json(), again.headers["idempotent-replayed"]) == (201, body, "true")
    stored = await uow.referrals.get("r1")
    assert stored is not None
    assert [r.record_id for r in stored.service_records] == [body["record_id"]]
    assert [e.record_id for e in recorded(uow)] == [body["record_id"]]


async def test_the_same_key_with_another_body_is_422_naming_the_header(
        client: httpx.AsyncClient, uow: FakeReferralUnitOfWork) -> None:
    await push(client, RECORD)
    assert problem_field(await push(client, RECORD | {"notes": "changed"}), 422) == "Idempotency-Key"
    assert problem_field(await push(client, RECORD, referral_id="r2"), 422) == "Idempotency-Key"  # another target
    assert len(recorded(uow)) == 1


async def test_the_key_is_required_and_belongs_to_its_client(
        client: httpx.AsyncClient, uow: FakeReferralUnitOfWork) -> None:
    assert problem_field(await push(client, RECORD, key=None), 400) == "Idempotency-Key"
    await push(client, RECORD)
    theirs = await push(client, RECORD, referral_id="r9", auth=THEM)  # the same key, another client
    assert theirs.status_code == 201, theirs.text
    assert "idempotent-replayed" not in theirs.headers
    assert problem_field(await push(client, RECORD, key="k-2", referral_id="r9"), 404) == "referral_id"
    assert len(recorded(uow)) == 2


async def test_a_client_token_needs_the_services_write_scope(client: httpx.AsyncClient) -> None:
    def scoped(*permissions: str) -> dict[str, str]:
        token = mint_token(SECRET, "lpa-client", Role.PROVIDER, [LPA], permissions=permissions)
        return {"Authorization": f"Bearer {token}"}

    assert problem_field(await push(client, RECORD, auth=scoped("referrals:read")), 403) == "scope"
    assert (await push(client, RECORD, auth=scoped("referrals:read", "services:write"))).status_code == 201


async def test_a_key_expires_after_the_window(client: httpx.AsyncClient, uow: FakeReferralUnitOfWork,
                                              clock: list[dt.datetime]) -> None:
    await push(client, RECORD)
    clock[0] = NOW + dt.timedelta(hours=23, minutes=59)
    assert (await push(client, RECORD)).headers["idempotent-replayed"] == "true"
    clock[0] = NOW + dt.timedelta(hours=24)
    fresh = await push(client, RECORD)
    assert fresh.status_code == 201
    assert "idempotent-replayed" not in fresh.headers
    assert len(recorded(uow)) == 2


async def test_a_refused_push_stores_no_key(client: httpx.AsyncClient, uow: FakeReferralUnitOfWork) -> None:
    assert problem_field(await push(client, RECORD | {"delivered_on": "2026-03-20"}), 422) == "delivered_on"
    assert (await push(client, RECORD | {"delivered_on": "2026-03-08"})).status_code == 201  # same key, now taken


async def test_invalid_bodies_name_their_field(client: httpx.AsyncClient) -> None:
    for change, field in (({"attachments": [{"url": "http://f.example/a", "sha256": SHA}]}, "attachments.0.url"),
                          ({"attendance": "sleeping"}, "attendance"), ({"extra": 1}, "extra")):
        assert problem_field(await push(client, RECORD | change), 422) == field


async def test_a_body_over_the_limit_is_413(client: httpx.AsyncClient, uow: FakeReferralUnitOfWork) -> None:
    big = RECORD | {"notes": "x" * 5000}
    assert problem_field(await push(client, big), 413) == "body"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit counts what arrives
        for _ in range(10):
            yield b" " * 1000
    answer = await client.post("/provider/referrals/r1/service-records", content=chunks(),
                               headers=ME | {"Idempotency-Key": "k-9", "Content-Type": "application/json"})
    assert problem_field(answer, 413) == "body"
    assert uow.published == []


def batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {"records": list(records)}


async def test_a_batch_gives_one_result_per_record_and_replays(
        client: httpx.AsyncClient, uow: FakeReferralUnitOfWork) -> None:
    body = batch(RECORD | {"referral_id": "r1"}, RECORD | {"referral_id": "r9"},
                 RECORD | {"referral_id": "r2", "service_type": "child.health"}, RECORD | {"referral_id": "r3"})
    answer = await client.post("/provider/service-records:batch", json=body, headers=ME | {"Idempotency-Key": "b-1"})
    assert answer.status_code == 200, answer.text
    results = answer.json()
    assert (results["recorded"], results["refused"]) == (2, 2)
    assert [(r["index"], r["status"]) for r in results["results"]] == [(0, 201), (1, 404), (2, 422), (3, 201)]
    assert results["results"][2]["problem"]["errors"] == [
        {"field": "service_type", "reason": "child.health is not a service of this referral"}]
    assert sorted(e.record_id or "" for e in recorded(uow)) == sorted(
        r["record_id"] for r in results["results"] if r["status"] == 201)
    r2 = await uow.referrals.get("r2")
    assert r2 is not None
    assert r2.status is ReferralStatus.ACCEPTED  # the refused record changed nothing
    again = await client.post("/provider/service-records:batch", json=body, headers=ME | {"Idempotency-Key": "b-1"})
    assert (again.json(), again.headers["idempotent-replayed"]) == (results, "true")
    assert len(recorded(uow)) == 2


async def test_a_batch_is_bounded_to_500_records(client: httpx.AsyncClient) -> None:
    small = {"service_type": "child.school_re_entry", "delivered_on": "2026-03-09", "referral_id": "r1"}
    over = await client.post("/provider/service-records:batch", json=batch(*[small] * 501),
                             headers=ME | {"Idempotency-Key": "b-2"})
    assert problem_field(over, 422) == "records"
    fits = await client.post("/provider/service-records:batch", json=batch(*[small] * 500),
                             headers=ME | {"Idempotency-Key": "b-3"})
    assert fits.status_code == 200, fits.text
    assert json.loads(fits.content)["recorded"] == 500
