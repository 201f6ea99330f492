"""Webhooks on the real broker and PostgreSQL: a referral's events reach the provider's endpoint on 127.0.0.1 signed
as Standard Webhooks (verified by `standardwebhooks.Webhook` as the receiver), a receiver failing twice gets the
event on the third attempt with three attempts in the delivery log, a rotation sends two signatures, a 410
disables the endpoint (and the provider sees why), private destinations are refused, and two replicas running the
delivery job send each event once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from fastapi import FastAPI
from standardwebhooks import Webhook

from referral.bootstrap import build
from simpul_platform.auth import Role, mint_token
from simpul_platform.settings import DEV_SECRET
from tests.support.referral_directory import DISTRICT, SERVICE_TYPE, GateState, provider_in_state
from tests.support.stack import eventually, settings_for, token
from tests.support.webhook_receiver import Receiver, webhook_receiver

OFFICER = token(Role.DISTRICT_OFFICER, DISTRICT, subject="officer-jember")
NOW = dt.datetime.now(dt.UTC)
FAST = {"webhook_allowed_destinations": ["127.0.0.1"], "webhook_retry_schedule_seconds": (0.3, 0.3, 0.3),
        "webhook_retry_jitter": 0, "webhook_delivery_seconds": 0.1, "webhook_timeout_seconds": 3}


@contextlib.asynccontextmanager
async def replicas(count: int, url: str, bootstrap: str, namespace: str, **extra: Any,
                   ) -> AsyncIterator[list[tuple[FastAPI, httpx.AsyncClient]]]:
    """`count` referral replicas on one database with fast webhook retries and 127.0.0.1 allowed."""
    settings = settings_for("referral", url, bootstrap, namespace, **(FAST | extra))
    async with contextlib.AsyncExitStack() as stack:
        started = []
        for _ in range(count):
            app = build(settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://referral")
            started.append((app, await stack.enter_async_context(client)))
        yield started


async def issue(client: httpx.AsyncClient, provider_id: str, n: int) -> str:
    """A referral issued over HTTP (an officer's consent override) to the provider."""
    created = await client.post("/referrals", headers=OFFICER, json={
        "child_id": f"chd_{n}", "person_id": f"per_{n}", "district": DISTRICT, "provider_id": provider_id,
        "service_types": [SERVICE_TYPE], "consent_override_reason": "guardian agreed by phone; form follows"})
    assert created.status_code == 201, created.text
    return str(created.json()["referral_id"])


async def endpoint(client: httpx.AsyncClient, provider: dict[str, str], receiver: Receiver,
                   *types: str) -> dict[str, Any]:
    created = await client.post("/provider/webhooks", headers=provider, json={
        "url": receiver.url(), "event_types": list(types or ["referral.issued", "referral.acknowledged"])})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/provider/webhooks/{created.json()['endpoint_id']}"
    body: dict[str, Any] = created.json()
    return body


def received(receiver: Receiver, count: int) -> Callable[[], Any]:
    async def probe() -> bool:
        return len(receiver.requests) >= count
    return probe


async def test_a_receiver_failing_twice_gets_the_signed_event_on_the_third_attempt_and_the_log_shows_three(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    async with webhook_receiver([500, 503]) as receiver, \
            replicas(1, make_database("referral"), kafka_bootstrap, namespace) as [(app, client)]:
        provider_id = await provider_in_state(app.state.wiring.unit_of_work, GateState.ELIGIBLE, on=NOW.date())
        provider = token(Role.PROVIDER, provider_id, subject="client-lpa")
        hook = await endpoint(client, provider, receiver)
        assert hook["secret"].startswith("whsec_")
        assert hook["status"] == "enabled"
        listed = (await client.get("/provider/webhooks", headers=provider)).json()
        assert [e["endpoint_id"] for e in listed] == [hook["endpoint_id"]]
        assert "secret" not in listed[0]

        referral_id = await issue(client, provider_id, 1)
        await eventually(received(receiver, 3))
        first, second, third = receiver.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"] == third.headers["webhook-id"]
        assert first.body == second.body == third.body
        for request in (first, second, third):  # standardwebhooks as the receiver: headers, tolerance, signature
            payload = Webhook(hook["secret"]).verify(request.body, request.headers)
            assert payload == {"type": "referral.issued", "timestamp": payload["timestamp"],
                               "data": {"referral_id": referral_id, "status": "issued"}}  # thin: nothing of the child
        assert set(json.loads(third.body)) == {"type", "timestamp", "data"}

        async def log() -> list[dict[str, Any]] | None:
            answer = await client.get(f"/provider/webhooks/{hook['endpoint_id']}/deliveries", headers=provider)
            deliveries: list[dict[str, Any]] = answer.json()
            return deliveries if deliveries and deliveries[0]["status"] == "succeeded" else None
        [delivery] = await eventually(log)
        assert delivery["webhook_id"] == first.headers["webhook-id"]
        assert delivery["event_type"] == "referral.issued"
        assert [(a["number"], a["status_code"], a["error"]) for a in delivery["attempts"]] == [
            (1, 500, "HTTP 500"), (2, 503, "HTTP 503"), (3, 204, None)]
        assert all(a["duration_ms"] >= 0 for a in delivery["attempts"])

        # A rotation: the next event carries two signatures, one per secret, until the overlap ends.
        rotated = await client.post(f"/provider/webhooks/{hook['endpoint_id']}/rotate-secret", headers=provider)
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["secret"] != hook["secret"]
        assert rotated.json()["previous_secret_expires_at"]
        acknowledged = await client.post(f"/referrals/{referral_id}/acknowledge", headers=OFFICER)
        assert acknowledged.status_code == 200, acknowledged.text
        await eventually(received(receiver, 4))
        fourth = receiver.requests[3]
        assert len(fourth.headers["webhook-signature"].split(" ")) == 2
        for secret in (rotated.json()["secret"], hook["secret"]):
            assert Webhook(secret).verify(fourth.body, fourth.headers)["data"]["status"] == "acknowledged"

        # Redelivery: the same webhook-id again, a fourth attempt in the log.
        redelivered = await client.post(
            f"/provider/webhooks/{hook['endpoint_id']}/deliveries/{delivery['delivery_id']}/redeliver",
            headers=provider)
        assert redelivered.status_code == 202, redelivered.text
        await eventually(received(receiver, 5))
        assert receiver.requests[4].headers["webhook-id"] == first.headers["webhook-id"]


async def test_410_disables_the_endpoint_and_the_provider_is_told_why(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    async with webhook_receiver([410]) as receiver, \
            replicas(1, make_database("referral"), kafka_bootstrap, namespace) as [(app, client)]:
        provider_id = await provider_in_state(app.state.wiring.unit_of_work, GateState.ELIGIBLE, on=NOW.date())
        provider = token(Role.PROVIDER, provider_id, subject="client-lpa")
        hook = await endpoint(client, provider, receiver)
        await issue(client, provider_id, 1)

        async def disabled() -> dict[str, Any] | None:
            [seen] = (await client.get("/provider/webhooks", headers=provider)).json()
            return seen if seen["status"] == "disabled" else None
        seen = await eventually(disabled)
        assert (seen["disabled_reason"], seen["disabled_because"]) == ("gone", "the endpoint answered 410 Gone")
        await issue(client, provider_id, 2)
        [delivery] = (await client.get(f"/provider/webhooks/{hook['endpoint_id']}/deliveries",
                                       headers=provider)).json()  # none for the second referral: disabled
        assert [a["status_code"] for a in delivery["attempts"]] == [410]
        assert delivery["status"] == "failed"
        assert len(receiver.requests) == 1
        refused = await client.post(
            f"/provider/webhooks/{hook['endpoint_id']}/deliveries/{delivery['delivery_id']}/redeliver",
            headers=provider)
        assert refused.status_code == 409
        assert refused.json()["errors"][0]["field"] == "endpoint"


async def test_private_destinations_are_refused_and_others_endpoints_do_not_exist(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    async with webhook_receiver() as receiver, \
            replicas(1, make_database("referral"), kafka_bootstrap, namespace) as [(_, client)]:
        provider = token(Role.PROVIDER, "prv_lpa", subject="client-lpa")
        for url in ("https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data", "https://[::1]/hook",
                    "https://[::ffff:10.0.0.1]/hook", "https://127.0.0.2/hook", "http://10.0.0.1/hook",
                    "https://0.0.0.0/hook", "ftp://receiver.example/hook"):
            answer = await client.post("/provider/webhooks", headers=provider,
                                       json={"url": url, "event_types": ["referral.issued"]})
            assert answer.status_code == 422, (url, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["errors"][0]["field"] == "url", answer.text
        assert (await client.get("/provider/webhooks", headers=provider)).json() == []

        hook = await endpoint(client, provider, receiver)
        other = token(Role.PROVIDER, "prv_other", subject="client-other")
        for method, path in (("GET", ""), ("DELETE", ""), ("GET", "/deliveries"), ("POST", "/rotate-secret")):
            answer = await client.request(method, f"/provider/webhooks/{hook['endpoint_id']}{path}", headers=other)
            assert answer.status_code == 404, (method, path, answer.text)
        assert (await client.get("/provider/webhooks", headers=OFFICER)).status_code == 403
        scoped = {"Authorization": "Bearer " + mint_token(DEV_SECRET, "client-lpa", Role.PROVIDER, ["prv_lpa"],
                                                           permissions=["referrals:read"])}
        unscoped = await client.get("/provider/webhooks", headers=scoped)
        assert unscoped.status_code == 403
        assert unscoped.json()["errors"] == [{"field": "scope",
                                              "reason": "the token was not granted the webhooks scope"}]
        granted = {"Authorization": "Bearer " + mint_token(DEV_SECRET, "client-lpa", Role.PROVIDER, ["prv_lpa"],
                                                           permissions=["referrals:read", "webhooks"])}
        assert [e["endpoint_id"] for e in (await client.get("/provider/webhooks", headers=granted)).json()] == [
            hook["endpoint_id"]]
        gone = await client.delete(f"/provider/webhooks/{hook['endpoint_id']}", headers=provider)
        assert gone.status_code == 204
        assert (await client.get("/provider/webhooks", headers=provider)).json() == []


async def test_two_replicas_running_the_delivery_job_send_each_event_once(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    async with webhook_receiver() as receiver, replicas(2, url, kafka_bootstrap, namespace,
                                                        webhook_batch_size=2) as [(app, client), _]:
        provider_id = await provider_in_state(app.state.wiring.unit_of_work, GateState.ELIGIBLE, on=NOW.date())
        provider = token(Role.PROVIDER, provider_id, subject="client-lpa")
        await endpoint(client, provider, receiver, "referral.issued")
        ids = [await issue(client, provider_id, n) for n in range(12)]
        await eventually(received(receiver, len(ids)))
        await eventually(lambda: _quiet(receiver, len(ids)), timeout=5)  # nothing more comes
        referrals = sorted(json.loads(r.body)["data"]["referral_id"] for r in receiver.requests)
        assert referrals == sorted(ids)
        assert len({r.headers["webhook-id"] for r in receiver.requests}) == len(ids)


async def _quiet(receiver: Receiver, count: int) -> bool:
    """True once a second passed with exactly `count` requests received."""
    await asyncio.sleep(1)
    assert len(receiver.requests) == count, [r.headers["webhook-id"] for r in receiver.requests]
    return True
