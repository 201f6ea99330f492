"""Referrals over the district API on the real broker and PostgreSQL: the eligibility gate refuses each provider
state naming its rule, the whole lifecycle with who and when and its events on `referral.referral.v1`, illegal
moves 409 naming the state, a stale If-Match 412, another district's referral 404, the district queue, and audited
reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import httpx
from sqlalchemy import select

from referral.adapters.orm import audit_log
from simpul_contracts.events.registry import ConsentDecision
from tests.support.database import scalar
from tests.support.referral_directory import GATE_RULE, SERVICE_TYPE, GateState, provider_in_state
from tests.support.referral_referrals import (
    LOMBOK_OFFICER,
    OFFICER,
    Referral,
    consent,
    new_referral,
    referral_events,
    referral_service,
)
from tests.support.stack import eventually
from tests.support.topics import publish_event

NOW = dt.datetime.now(dt.UTC)


async def _with_consent(service: Referral, bootstrap: str, namespace: str, child_id: str, provider_id: str
                        ) -> httpx.Response:
    """Publish the registry's consent for the child, then create a referral once the consumer applied it."""
    await publish_event(bootstrap, namespace, consent(child_id, ConsentDecision.GIVEN, NOW))

    async def created() -> httpx.Response | None:
        answer = await service.client.post("/referrals", headers=OFFICER, json=new_referral(child_id, provider_id))
        return answer if answer.status_code != 409 or "consent" not in answer.text else None
    return await eventually(created)


async def _step(service: Referral, referral_id: str, move: str, **body: object) -> httpx.Response:
    return await service.client.post(f"/referrals/{referral_id}/{move}", headers=OFFICER, json=body or None)


async def test_the_gate_refuses_each_provider_state_naming_the_rule(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    async with referral_service(url, kafka_bootstrap, namespace) as service:
        providers = {state: await provider_in_state(service.units(), state, on=NOW.date()) for state in GateState}
        first = await _with_consent(service, kafka_bootstrap, namespace, "chd_gate", providers[GateState.ELIGIBLE])
        assert first.status_code == 201, first.text
        for state, rule in GATE_RULE.items():
            answer = await service.client.post("/referrals", headers=OFFICER,
                                               json=new_referral("chd_gate", providers[state]))
            if rule is None:
                assert answer.status_code == 201, (state, answer.text)
                continue
            assert answer.status_code == 409, (state, answer.text)
            problem = answer.json()
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert rule in str(problem), (state, problem)
        override = await service.client.post("/referrals", headers=OFFICER, json=new_referral(
            "chd_gate", providers[GateState.FULL], capacity_override_reason="no other provider in Kalisat"))
        assert override.status_code == 201, override.text
        referral_id = override.json()["referral_id"]
        override_reason = select(audit_log.c.reason).where(audit_log.c.resource_id == referral_id,
                                                           audit_log.c.action == "override_capacity")
        assert await scalar(url, override_reason) == "no other provider in Kalisat"


async def test_the_lifecycle_over_http_with_illegal_moves_stale_etags_scope_and_events(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    async with referral_service(url, kafka_bootstrap, namespace) as service:
        provider_id = await provider_in_state(service.units(), GateState.ELIGIBLE, on=NOW.date())
        created = await _with_consent(service, kafka_bootstrap, namespace, "chd_life", provider_id)
        assert created.status_code == 201, created.text
        referral_id, etag = created.json()["referral_id"], created.headers["ETag"]
        assert created.headers["Location"] == f"/referrals/{referral_id}"

        early = await _step(service, referral_id, "accept")
        assert early.status_code == 409
        assert early.json()["errors"] == [{"field": "status", "reason": "cannot accept: the status is issued"}]
        stale = await service.client.post(f"/referrals/{referral_id}/acknowledge",
                                          headers=OFFICER | {"If-Match": '"7"'})
        assert stale.status_code == 412, stale.text
        acknowledged = await service.client.post(f"/referrals/{referral_id}/acknowledge",
                                                 headers=OFFICER | {"If-Match": etag})
        assert acknowledged.status_code == 200, acknowledged.text
        assert (await _step(service, referral_id, "accept")).status_code == 200
        assert (await _step(service, referral_id, "complete")).status_code == 409  # accepted, not in service
        recorded = await _step(service, referral_id, "services", service_type=SERVICE_TYPE,
                               delivered_on=str(NOW.date()), notes="enrolled in grade 5")
        assert recorded.json()["status"] == "in_service"
        done = await _step(service, referral_id, "complete")
        assert done.status_code == 200, done.text
        view = done.json()
        assert [s["status"] for s in view["history"]] == ["issued", "acknowledged", "accepted", "in_service",
                                                           "completed"]
        assert {s["by"] for s in view["history"]} == {"officer-jember"}
        assert (await _step(service, referral_id, "revoke", note="too late")).status_code == 409

        other = await service.client.get(f"/referrals/{referral_id}", headers=LOMBOK_OFFICER)
        assert other.status_code == 404
        assert (await service.client.get("/referrals", headers=LOMBOK_OFFICER)).json() == []
        mine = await service.client.get("/referrals", headers=OFFICER | {"X-Access-Reason": "case review"},
                                        params={"status": "completed"})
        assert [r["referral_id"] for r in mine.json()] == [referral_id]

        types = await eventually(lambda: _types_of(kafka_bootstrap, namespace, referral_id, 6))
        assert types == ["simpul.referral.referral-issued.v1", "simpul.referral.referral-acknowledged.v1",
                         "simpul.referral.referral-accepted.v1", "simpul.referral.referral-service-started.v1",
                         "simpul.referral.referral-service-recorded.v1", "simpul.referral.referral-completed.v1"]
        bodies = [body for _, body in await referral_events(kafka_bootstrap, namespace)]
        assert "enrolled in grade 5" not in str(bodies)  # notes stay in referral
        audited = select(audit_log.c.action).where(audit_log.c.resource_id == referral_id,
                                                   audit_log.c.action == "search")
        assert await scalar(url, audited) == "search"


async def test_a_decline_goes_to_the_district_queue_until_a_linked_re_referral(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    async with referral_service(make_database("referral"), kafka_bootstrap, namespace) as service:
        first, second = [await provider_in_state(service.units(), GateState.ELIGIBLE, on=NOW.date())
                         for _ in range(2)]
        created = await _with_consent(service, kafka_bootstrap, namespace, "chd_queue", first)
        referral_id = created.json()["referral_id"]
        await _step(service, referral_id, "acknowledge")
        assert (await _step(service, referral_id, "decline", reason="written text")).status_code == 422
        declined = await _step(service, referral_id, "decline", reason="no_capacity")
        assert declined.json()["history"][-1]["reason"] == "no_capacity"
        queue = (await service.client.get("/referrals/queue", headers=OFFICER)).json()
        assert [(q["reason"], q["referral"]["referral_id"]) for q in queue] == [("declined", referral_id)]
        assert (await service.client.get("/referrals/queue", headers=LOMBOK_OFFICER)).json() == []
        follow = await service.client.post("/referrals", headers=OFFICER, json=new_referral(
            "chd_queue", second, previous_referral_id=referral_id))
        assert follow.status_code == 201, follow.text
        assert follow.json()["previous_referral_id"] == referral_id
        assert (await service.client.get("/referrals/queue", headers=OFFICER)).json() == []


async def _types_of(bootstrap: str, namespace: str, referral_id: str, count: int) -> list[str] | None:
    types = [kind for kind, body in await referral_events(bootstrap, namespace) if body["referral_id"] == referral_id]
    return types if len(types) >= count else None
