"""Referral's response deadlines on the real broker and PostgreSQL, with a clock the test moves: unanswered
referrals are overdue, escalated to the district queue, then expired; TWO replicas running the deadline job at once
fire each deadline exactly once (counted on the topic)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from fastapi import FastAPI

from referral.bootstrap import build
from referral.domain.consent import RecordedConsent
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from referral.entrypoints.jobs import deadline_policies, fire_deadlines
from referral.service_layer.handlers.deadlines import watch_deadlines
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events.referral.referrals import ReferralOverdueV1
from simpul_platform.auth import Role
from simpul_platform.topic_reader import read_topic
from tests.support.referral_directory import DISTRICT, SERVICE_TYPE, GateState, provider_in_state
from tests.support.stack import eventually, settings_for, token
from tests.support.topics import header

OFFICER = token(Role.DISTRICT_OFFICER, DISTRICT, subject="officer-jember")
T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
TOPIC = ReferralOverdueV1.topic
DEADLINE_EVENTS = ("overdue", "escalated", "expired")


class Clock:
    """A clock the test moves, shared by every replica."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@contextlib.asynccontextmanager
async def replicas(count: int, url: str, bootstrap: str, namespace: str, clock: Clock, *, jobs: bool,
                   ) -> AsyncIterator[list[tuple[FastAPI, httpx.AsyncClient]]]:
    """`count` referral replicas on one database, started in this process, each with an HTTP client."""
    settings = settings_for("referral", url, bootstrap, namespace, jobs_enabled=jobs, deadline_job_seconds=0.1,
                            deadline_batch_size=2)
    async with contextlib.AsyncExitStack() as stack:
        started = []
        for _ in range(count):
            app = build(settings, clock=clock)
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://referral")
            started.append((app, await stack.enter_async_context(client)))
        yield started


async def issue(client: httpx.AsyncClient, provider_id: str, n: int) -> str:
    """A referral issued over HTTP through the consent (an officer's override) and eligibility gates."""
    created = await client.post("/referrals", headers=OFFICER, json={
        "child_id": f"chd_{n}", "person_id": f"per_{n}", "district": DISTRICT, "provider_id": provider_id,
        "service_types": [SERVICE_TYPE], "consent_override_reason": "guardian agreed by phone; form follows"})
    assert created.status_code == 201, created.text
    return str(created.json()["referral_id"])


async def refer(units: Callable[[], ReferralUnitOfWork], n: int, at: dt.datetime) -> str:
    """A referral issued at `at` and put on the job's watch list, as the issue handler does (the provider is not
    needed past the gate, so none is built)."""
    request = ReferralRequest(f"ref_{n}", f"chd_{n}", f"per_{n}", DISTRICT, (SERVICE_TYPE,),
                              RecordedConsent(at - DAY))
    referral = Referral(request, "prv_lpa", [Step(ReferralStatus.ISSUED, "officer-jember", at)],
                        PersonLink(request.person_id))
    async with units() as uow:
        await uow.referrals.save(referral)
        await watch_deadlines(referral, uow)
        await uow.commit()
    return referral.referral_id


async def deadline_events(bootstrap: str, namespace: str) -> Counter[tuple[str, str]]:
    """(referral id, event) -> how many times it is on the topic, for the deadline events."""
    counts: Counter[tuple[str, str]] = Counter()
    for record in await read_topic(bootstrap, namespace + TOPIC):
        kind = (header(record, "ce_type") or "").removeprefix("simpul.referral.referral-").removesuffix(".v1")
        if kind in DEADLINE_EVENTS:
            counts[(record.key or b"").decode(), kind] += 1
    return counts


async def statuses(client: httpx.AsyncClient, ids: list[str]) -> list[str]:
    return [(await client.get(f"/referrals/{i}", headers=OFFICER)).json()["status"] for i in ids]


async def test_unanswered_referrals_are_overdue_escalated_and_expired_on_the_clock(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    clock = Clock(T0)
    async with replicas(1, make_database("referral"), kafka_bootstrap, namespace, clock, jobs=False) as [(app, api)]:
        provider_id = await provider_in_state(app.state.wiring.unit_of_work, GateState.ELIGIBLE, on=T0.date())
        silent, acknowledged, accepted = [await issue(api, provider_id, n) for n in range(3)]
        for referral_id, steps in ((acknowledged, ["acknowledge"]), (accepted, ["acknowledge", "accept"])):
            for step in steps:
                clock.now += dt.timedelta(hours=1)
                answer = await api.post(f"/referrals/{referral_id}/{step}", headers=OFFICER)
                assert answer.status_code == 200, answer.text
        units, policies = app.state.wiring.unit_of_work, deadline_policies(app.state.wiring.settings)

        clock.now = T0 + 3 * DAY - dt.timedelta(seconds=1)
        assert await fire_deadlines(units, clock, policies, 100) == []
        clock.now = T0 + 3 * DAY
        assert await fire_deadlines(units, clock, policies, 100) == [f"{silent}/acknowledge"]
        clock.now = T0 + 7 * DAY
        assert sorted(await fire_deadlines(units, clock, policies, 100)) == sorted(
            f"{r}/{k}" for r in (silent, acknowledged) for k in ("answer", "escalation"))
        queue = (await api.get("/referrals/queue", headers=OFFICER)).json()
        assert {(q["referral"]["referral_id"], q["reason"]) for q in queue} == {(silent, "overdue"),
                                                                                 (acknowledged, "overdue")}
        assert await statuses(api, [silent, acknowledged, accepted]) == ["issued", "acknowledged", "accepted"]
        clock.now = T0 + 14 * DAY
        assert sorted(await fire_deadlines(units, clock, policies, 100)) == sorted(
            [f"{silent}/expiry", f"{acknowledged}/expiry"])
        assert await statuses(api, [silent, acknowledged, accepted]) == ["expired", "expired", "accepted"]
        clock.now = T0 + 60 * DAY
        assert await fire_deadlines(units, clock, policies, 100) == []

        expected = Counter({(silent, "overdue"): 2, (silent, "escalated"): 1, (silent, "expired"): 1,
                            (acknowledged, "overdue"): 1, (acknowledged, "escalated"): 1,
                            (acknowledged, "expired"): 1})
        assert await eventually(settled(kafka_bootstrap, namespace, expected)) == expected


async def test_two_replicas_running_the_job_fire_each_deadline_exactly_once(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    clock = Clock(T0)
    url = make_database("referral")
    async with replicas(2, url, kafka_bootstrap, namespace, clock, jobs=True) as [(one, api), (two, _)]:
        ids = [await refer((one if n % 2 else two).state.wiring.unit_of_work, n, T0) for n in range(12)]
        # Both replicas' jobs run every 0.1 s in batches of 2, on one database: jump past every deadline at once.
        clock.now = T0 + 15 * DAY
        expected = Counter({(r, kind): (2 if kind == "overdue" else 1) for r in ids for kind in DEADLINE_EVENTS})
        assert await eventually(settled(kafka_bootstrap, namespace, expected), timeout=60) == expected
        await asyncio.sleep(1.0)  # several more rounds of both jobs: nothing fires again
        assert await deadline_events(kafka_bootstrap, namespace) == expected
        assert set(await statuses(api, ids)) == {"expired"}


def settled(bootstrap: str, namespace: str, expected: Counter[tuple[str, str]],
            ) -> Callable[[], Awaitable[Counter[tuple[str, str]] | None]]:
    """A probe: the deadline events on the topic once they are the ones expected."""
    async def probe() -> Counter[tuple[str, str]] | None:
        found = await deadline_events(bootstrap, namespace)
        return found if found == expected else None
    return probe
