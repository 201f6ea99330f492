"""The provider directory on the real broker and PostgreSQL: every rubric boundary through the HTTP API, district
scope (another district's provider is 404), audited writes, the service-type list and its import, an expiring
document lowering the score on its expiry day through the rescoring job of two replicas (published once), a
suspension sending open referrals back to the district queue, and the gate fixtures of tests/support."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from referral.adapters import orm
from referral.bootstrap import build as build_referral
from referral.domain.consent import RecordedConsent
from referral.domain.district_queue import QueueReason, queue_reason
from referral.domain.eligibility import Placement, refusal
from referral.domain.lifecycle import ReferralRequest, ReferralStatus
from referral.domain.providers import Capacity
from referral.domain.referrals import Referral
from referral.domain.vetting import Vetting, YearsWithChildren
from referral.entrypoints.rescoring import rescore_providers
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events.referral.providers import ProviderRescoredV1, ProviderSuspendedV1
from simpul_contracts.events.referral.referrals import ReferralRevokedV1
from simpul_platform.auth import Role
from simpul_platform.topic_reader import read_topic
from tests.support.database import scalar
from tests.support.referral_directory import (
    DISTRICT,
    GATE_RULE,
    OTHER_DISTRICT,
    SERVICE_TYPE,
    GateState,
    provider_in_state,
)
from tests.support.stack import eventually, settings_for, token
from tests.support.topics import header

OFFICER = token(Role.DISTRICT_OFFICER, "35.09", subject="officer-jember")
LOMBOK_OFFICER = token(Role.DISTRICT_OFFICER, "52.03", subject="officer-lotim")
MINISTRY = token(Role.MINISTRY, subject="ministry-admin")
T0 = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
EXPIRY = dt.date(2026, 6, 11)
TOPIC = ProviderRescoredV1.topic


class Clock:
    """A clock the test moves."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def referral_app(url: str, bootstrap: str, namespace: str, clock: Clock, **extra: Any) -> FastAPI:
    """Referral on its database and the test's topics, on the test's clock (jobs off unless asked)."""
    extra.setdefault("jobs_enabled", False)
    return build_referral(settings_for("referral", url, bootstrap, namespace, **extra), clock=clock)


@contextlib.asynccontextmanager
async def started(*apps: FastAPI) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Run the apps' lifespans in this process, each with an HTTP client."""
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://referral")
            clients.append(await stack.enter_async_context(client))
        yield clients


def units(app: FastAPI) -> Callable[[], ReferralUnitOfWork]:
    """The app's unit-of-work factory."""
    factory: Callable[[], ReferralUnitOfWork] = app.state.wiring.unit_of_work
    return factory


async def register(client: httpx.AsyncClient, headers: dict[str, str] = OFFICER, **changes: Any) -> str:
    body = {"organisation": "LPA Jember", "provider_type": "ngo", "districts": ["35.09"],
            "contacts": [{"name": "Bu Ani", "role": "coordinator", "phone": "+62 331 000"}],
            "catalogue": [SERVICE_TYPE]} | changes
    created = await client.post("/providers", headers=headers, json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["provider_id"])


def documents(valid: int, expiring_on: dt.date | None = None) -> list[dict[str, Any]]:
    """`valid` of the four documents valid on T0 (the last of them expiring on `expiring_on`); the rest expired."""
    kinds = ["deed_of_establishment", "operating_licence", "npwp", "skt"]
    return [{"kind": kind, "reference": f"DOC-{n}", "valid_from": "2020-01-01",
             "expires_on": (None if n < valid - 1 else (expiring_on.isoformat() if expiring_on else None))
             if n < valid else T0.date().isoformat()} for n, kind in enumerate(kinds)]


async def vet(client: httpx.AsyncClient, provider_id: str, legality: int, track: int, vision: int,
              orientation: int, years: str, expiring_on: dt.date | None = None) -> httpx.Response:
    return await client.post(f"/providers/{provider_id}/vettings", headers=OFFICER, json={
        "documents": documents(legality, expiring_on), "track_record": track, "vision_and_mission": vision,
        "child_orientation": orientation, "years_with_children": years, "evidence": ["site visit 2026-05-20"],
        "notes": "deed and licence seen"})


@pytest.mark.parametrize(("criteria", "total", "recommendation"), [
    ((0, 0, 0, 0, "none"), 0, "not_recommended"),
    ((3, 1, 1, 0, "under_5"), 5, "not_recommended"),
    ((3, 1, 1, 1, "under_5"), 6, "may_be_recommended"),
    ((4, 2, 1, 1, "under_5"), 8, "may_be_recommended"),
    ((4, 2, 1, 1, "5_to_10"), 9, "recommended"),
    ((4, 2, 2, 2, "over_10"), 11, "recommended"),
])
async def test_every_rubric_boundary_through_the_http_api(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str,
    criteria: tuple[int, int, int, int, str], total: int, recommendation: str,
) -> None:
    url = make_database("referral")
    async with started(referral_app(url, kafka_bootstrap, namespace, Clock(T0))) as [client]:
        provider_id = await register(client)
        answer = await vet(client, provider_id, *criteria)
        assert answer.status_code == 201, answer.text
        score = answer.json()["score"]
        assert (score["legality"], score["total"], score["recommendation"]) == (criteria[0], total, recommendation)
        assert answer.json()["vetted_by"] == "officer-jember"
        shown = (await client.get(f"/providers/{provider_id}", headers=OFFICER)).json()
        assert shown["vetting"]["score"]["total"] == total
        assert shown["vetting"]["evidence"] == ["site visit 2026-05-20"]


async def test_a_bad_vetting_names_the_field_and_writes_nothing(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    async with started(referral_app(url, kafka_bootstrap, namespace, Clock(T0))) as [client]:
        provider_id = await register(client)
        too_high = await vet(client, provider_id, 4, 3, 0, 0, "none")
        assert too_high.status_code == 422
        assert too_high.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in too_high.json()["errors"]] == ["track_record"]
        backwards = await client.post(f"/providers/{provider_id}/vettings", headers=OFFICER, json={
            "documents": [{"kind": "npwp", "reference": "N-1", "valid_from": "2026-01-01", "expires_on": "2025-01-01"}],
            "track_record": 1, "vision_and_mission": 1, "child_orientation": 1, "years_with_children": "none"})
        assert backwards.status_code == 422
        assert backwards.json()["errors"][0]["field"] == "documents.expires_on"
        assert await scalar(url, select(func.count()).select_from(orm.metadata.tables["provider_vettings"])) == 0


async def test_another_districts_provider_is_not_found_and_every_write_is_audited(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    async with started(referral_app(url, kafka_bootstrap, namespace, Clock(T0))) as [client]:
        provider_id = await register(client)
        path = f"/providers/{provider_id}"
        assert (await client.get(path, headers=LOMBOK_OFFICER)).status_code == 404
        refused = await client.put(f"{path}/capacity", headers=LOMBOK_OFFICER, json={"capacity": "full"})
        assert refused.status_code == 404
        assert refused.json()["errors"] == [{"field": "provider_id", "reason": "no such provider in your districts"}]
        assert (await client.get(path, headers=MINISTRY)).status_code == 403
        outside = await client.post("/providers", headers=OFFICER, json={
            "organisation": "LPA Lotim", "provider_type": "ngo", "districts": ["52.03"]})
        assert outside.status_code == 403
        assert outside.json()["errors"][0]["field"] == "districts"
        assert (await client.put(f"{path}/capacity", headers=OFFICER, json={"capacity": "limited"})).status_code == 200
        agreement = await client.post(f"{path}/agreements", headers=OFFICER, json={
            "kind": "mou", "document_reference": "MoU 7/2026", "starts_on": "2026-01-01", "ends_on": "2026-12-31",
            "service_types": [SERVICE_TYPE], "districts": ["35.09"]})
        assert agreement.status_code == 201
        assert agreement.json()["in_force"] is True
        assert (await client.post(f"{path}/suspend", headers=OFFICER, json={"reason": "licence review"})
                ).status_code == 200
        again = await client.post(f"{path}/suspend", headers=OFFICER, json={"reason": "again"})
        assert again.status_code == 409
        assert again.json()["errors"] == [{"field": "status", "reason": "cannot suspend: the status is suspended"}]
        listed = (await client.get("/providers", headers=OFFICER, params={"status": "suspended"})).json()
        assert [p["provider_id"] for p in listed["items"]] == [provider_id]
        assert (await client.get("/providers", headers=LOMBOK_OFFICER)).json()["items"] == []
        audit = orm.audit_log
        actions = await scalar(url, select(func.string_agg(audit.c.action, ",")).where(
            audit.c.resource_id == provider_id))
        assert sorted(actions.split(",")) == ["agreement", "register", "set_capacity", "suspend"]


async def test_the_service_type_list_is_seeded_versioned_and_keeps_retired_codes(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    async with started(referral_app(url, kafka_bootstrap, namespace, Clock(T0))) as [client]:
        seeded = (await client.get("/service-types", headers=OFFICER)).json()
        assert seeded["version"] == 1
        assert len(seeded["service_types"]) == 14
        rows = [{"code": e["code"], "name": e["name"]} for e in seeded["service_types"]
                if e["code"] != "child.school_kit"] + [{"code": "child.digital_literacy", "name": "Digital literacy"}]
        assert (await client.post("/service-types/imports", headers=OFFICER, json={"service_types": rows})
                ).status_code == 403
        imported = await client.post("/service-types/imports", headers=MINISTRY, json={"service_types": rows})
        assert imported.json() == {"version": 2, "created": ["child.digital_literacy"], "renamed": [],
                                   "retired": ["child.school_kit"], "unretired": []}
        again = await client.post("/service-types/imports", headers=MINISTRY, json={"service_types": rows})
        assert again.json()["version"] == 2
        listed = {e["code"]: e for e in (await client.get("/service-types", headers=OFFICER)).json()["service_types"]}
        assert listed["child.school_kit"]["retired"] is True
        assert listed["child.digital_literacy"] == {"code": "child.digital_literacy", "name": "Digital literacy",
                                                    "level": "child", "version": 2, "retired": False}
        retired = await client.post("/providers", headers=OFFICER, json={
            "organisation": "SD Negeri", "provider_type": "school", "districts": ["35.09"],
            "catalogue": ["child.school_kit"]})
        assert retired.status_code == 422
        assert retired.json()["errors"][0]["field"] == "service_type"


async def _of_type(bootstrap: str, topic: str, event_type: str) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in await read_topic(bootstrap, topic) if header(r, "ce_type") == event_type]


async def _rescored(bootstrap: str, namespace: str) -> list[dict[str, Any]]:
    return await _of_type(bootstrap, namespace + TOPIC, ProviderRescoredV1.event_type)


async def test_an_expiring_document_lowers_the_score_on_its_expiry_day_once_with_two_replicas(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url, clock = make_database("referral"), Clock(T0)
    replicas = [referral_app(url, kafka_bootstrap, namespace, clock, jobs_enabled=True, rescoring_job_seconds=0.05)
                for _ in range(2)]
    async with started(*replicas) as [client, _]:
        provider_id = await register(client)
        vetted = await vet(client, provider_id, 4, 2, 1, 1, "5_to_10", expiring_on=EXPIRY)
        assert vetted.json()["score"]["total"] == 9
        clock.now = dt.datetime.combine(EXPIRY - dt.timedelta(days=1), dt.time(23, 59), tzinfo=dt.UTC)
        await asyncio.sleep(0.5)  # both replicas' jobs ran rounds the day before: nothing changes
        assert await _rescored(kafka_bootstrap, namespace) == []
        clock.now = dt.datetime.combine(EXPIRY, dt.time(0, 1), tzinfo=dt.UTC)
        [event] = await eventually(lambda: _rescored(kafka_bootstrap, namespace))
        assert (event["provider_id"], event["on"], event["previous_total"], event["total"]) == (
            provider_id, EXPIRY.isoformat(), 9, 8)
        assert (event["recommendation"], event["recorded_by"]) == ("may_be_recommended", "referral:rescoring")
        await asyncio.sleep(1.0)  # many more rounds of both replicas on the same day
        assert len(await _rescored(kafka_bootstrap, namespace)) == 1
        shown = (await client.get(f"/providers/{provider_id}", headers=OFFICER)).json()
        assert shown["vetting"]["score"]["total"] == 8


async def test_a_provider_one_round_holds_is_skipped_by_the_other(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url, clock = make_database("referral"), Clock(T0)
    app = referral_app(url, kafka_bootstrap, namespace, clock)
    async with started(app) as [client]:
        both = {await register(client), await register(client, organisation="PKBM Wuluhan")}
        for provider_id in both:
            await vet(client, provider_id, 4, 2, 1, 1, "5_to_10", expiring_on=EXPIRY)
        clock.now = dt.datetime.combine(EXPIRY, dt.time(1), tzinfo=dt.UTC)
        holder = units(app)()
        async with holder:
            [held] = await holder.providers.due_for_rescoring(EXPIRY, 1)  # a replica mid-round holds one
            [other] = both - {held.provider_id}
            assert await rescore_providers(units(app), clock, 10) == [other]
        assert await rescore_providers(units(app), clock, 10) == [held.provider_id]  # released: taken now, once
        together = await asyncio.gather(*(rescore_providers(units(app), clock, 10) for _ in range(2)))
        assert together == [[], []]


async def test_suspending_sends_open_referrals_back_to_the_district_queue(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url, clock = make_database("referral"), Clock(T0)
    app = referral_app(url, kafka_bootstrap, namespace, clock)
    async with started(app) as [client]:
        provider_id = await provider_in_state(units(app), GateState.ELIGIBLE, on=T0.date())
        uow = units(app)()
        async with uow:
            provider = await uow.providers.get(provider_id)
            assert provider is not None
            request = ReferralRequest("ref_1", "chd_1", "per_1", DISTRICT, (SERVICE_TYPE,), RecordedConsent(T0))
            await uow.referrals.save(Referral.issue(request, provider, "officer-jember", T0))
            await uow.commit()
        suspended = await client.post(f"/providers/{provider_id}/suspend",
                                      headers=token(Role.DISTRICT_OFFICER, DISTRICT, OTHER_DISTRICT),
                                      json={"reason": "licence review"})
        assert suspended.status_code == 200, suspended.text
        uow = units(app)()
        async with uow:
            referral = await uow.referrals.get("ref_1")
        assert referral is not None
        assert referral.status is ReferralStatus.REVOKED
        assert queue_reason(referral) is QueueReason.REROUTED
        revoked = await eventually(lambda: _of_type(kafka_bootstrap, namespace + ReferralRevokedV1.topic,
                                                    ReferralRevokedV1.event_type))
        assert [(e["referral_id"], e["reason"]) for e in revoked] == [("ref_1", "provider_suspended")]
        suspended_events = await eventually(lambda: _of_type(kafka_bootstrap, namespace + TOPIC,
                                                             ProviderSuspendedV1.event_type))
        assert [e["provider_id"] for e in suspended_events] == [provider_id]
        assert "licence review" not in json.dumps(suspended_events)


async def test_the_gate_fixtures_put_providers_in_each_state(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url, day = make_database("referral"), T0.date()
    app = referral_app(url, kafka_bootstrap, namespace, Clock(T0))
    async with started(app):
        for state in GateState:
            provider_id = await provider_in_state(units(app), state, on=day)
            uow = units(app)()
            async with uow:
                provider = await uow.providers.get(provider_id)
            assert provider is not None
            failed = refusal(provider, Placement((SERVICE_TYPE,), DISTRICT, day))
            assert (failed.rule if failed else None) == GATE_RULE[state], state


async def test_a_change_waits_for_another_change_of_the_same_provider(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url, clock = make_database("referral"), Clock(T0)
    app = referral_app(url, kafka_bootstrap, namespace, clock)
    async with started(app) as [client]:
        provider_id = await register(client)
        await vet(client, provider_id, 4, 2, 1, 1, "5_to_10")  # 9
        first = units(app)()
        async with first:
            provider = await first.providers.get(provider_id, for_update=True)
            assert provider is not None
            second = asyncio.create_task(client.put(f"/providers/{provider_id}/capacity", headers=OFFICER,
                                                    json={"capacity": "full"}))
            await asyncio.sleep(1.0)
            assert not second.done()  # it waits for the first change instead of overwriting it
            provider.record_vetting(Vetting("vet_again", (), 2, 2, 2, YearsWithChildren.NONE, "officer-jember",
                                            T0 + dt.timedelta(minutes=5)))
            await first.providers.save(provider)
            await first.commit()
        answer = await second
        assert answer.status_code == 200
        assert answer.json()["capacity"] == "full"
        assert answer.json()["vetting"]["vetting_id"] == "vet_again"
        reader = units(app)()
        async with reader:
            stored = await reader.providers.get(provider_id)
        assert stored is not None
        assert stored.scored is not None
        assert (stored.capacity, stored.scored.total) == (Capacity.FULL, 6)
