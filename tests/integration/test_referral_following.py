"""Following the person and the case on the real broker and PostgreSQL: identity's merges (identity.person.v1) move
referrals to the surviving person and unmerges move them back, in the running consumer; the registry's case closure
(registry.child.v1) shows on the referral and revokes it where the district says so; redelivered and out-of-order
events change nothing more."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from fastapi import FastAPI

from referral.bootstrap import build
from referral.domain.consent import RecordedConsent
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from simpul_contracts import Event
from simpul_contracts.events import CaseStatusChangedV1, PersonsMergedV1, PersonUnmergedV1
from simpul_contracts.events.referral.referrals import ReferralPersonChangedV1
from simpul_contracts.events.registry import CaseStatus, Classification, ClosureReason
from simpul_platform.auth import Role
from simpul_platform.topic_reader import read_topic
from tests.support.stack import eventually, settings_for, token
from tests.support.topics import header, publish

JEMBER, LOMBOK_TIMUR = "35.09", "52.03"
OFFICER = token(Role.DISTRICT_OFFICER, JEMBER, LOMBOK_TIMUR, subject="officer")
T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@contextlib.asynccontextmanager
async def referral_service(url: str, bootstrap: str, namespace: str, **settings: Any,
                           ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = build(settings_for("referral", url, bootstrap, namespace, jobs_enabled=False, **settings))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://referral")
    async with app.router.lifespan_context(app), client:
        yield app, client


async def refer(app: FastAPI, referral_id: str, person_id: str, child_id: str, district: str = JEMBER) -> None:
    request = ReferralRequest(referral_id, child_id, person_id, district, ("child.school_re_entry",),
                              RecordedConsent(T0 - HOUR))
    async with app.state.wiring.unit_of_work() as uow:
        await uow.referrals.save(Referral(request, "prv_lpa", [Step(ReferralStatus.ISSUED, "officer", T0)],
                                          PersonLink(person_id)))
        await uow.commit()


async def send(bootstrap: str, namespace: str, event: Event, times: int = 1) -> None:
    """Produce the event `times` times under one envelope id (the later ones are redeliveries)."""
    headers = event.envelope().to_headers()
    for _ in range(times):
        await publish(bootstrap, namespace + event.topic, event.to_bytes(), headers, event.key.encode())


async def person_of(client: httpx.AsyncClient, referral_id: str) -> str:
    answer = await client.get(f"/referrals/{referral_id}", headers=OFFICER)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["person_id"])


async def referral_events(bootstrap: str, namespace: str, kind: str) -> list[str]:
    """The referral ids of the `kind` events on referral's topic, in order."""
    return [(r.key or b"").decode() for r in await read_topic(bootstrap, namespace + ReferralPersonChangedV1.topic)
            if header(r, "ce_type") == f"simpul.referral.referral-{kind}.v1"]


def merge(merge_id: str, retired: str, surviving: str) -> PersonsMergedV1:
    return PersonsMergedV1(merge_id=merge_id, surviving_person_id=surviving, retired_person_id=retired,
                           moved_records=["simpul-registry:chd_1"], merged_by="reviewer", merged_at=T0)


def unmerge(merge_id: str, retired: str, surviving: str) -> PersonUnmergedV1:
    return PersonUnmergedV1(merge_id=merge_id, person_id=retired, unmerged_from_person_id=surviving,
                            moved_records=["simpul-registry:chd_1"], unmerged_by="reviewer",
                            unmerged_at=T0 + HOUR)


def case(child_id: str, status: CaseStatus, at: dt.datetime) -> CaseStatusChangedV1:
    closed = status is CaseStatus.CLOSED
    return CaseStatusChangedV1(
        child_id=child_id, person_id="per_x", sex="female", birth_year=2012, village_code="35.09.11.2007",
        case_id=f"case_{child_id}", classification=Classification.CHILD_LABOURER, status=status,
        previous=CaseStatus.MONITORING if closed else CaseStatus.CLOSED,
        closure_reason=ClosureReason.WITHDRAWN if closed else None, changed_at=at, changed_by="cadre")


def probe(check: Callable[[], Any], expected: Any) -> Callable[[], Any]:
    async def run() -> Any:
        found = await check()
        return found if found == expected else None
    return run


async def test_a_merge_moves_the_referrals_and_an_unmerge_restores_them_redelivered_and_out_of_order(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    async with referral_service(make_database("referral"), kafka_bootstrap, namespace) as (app, api):
        for referral_id, person_id in (("ref_a", "per_old"), ("ref_b", "per_old"), ("ref_c", "per_new"),
                                       ("ref_d", "per_x")):
            await refer(app, referral_id, person_id, f"chd_{referral_id}")
        persons = lambda: _persons(api, ["ref_a", "ref_b", "ref_c", "ref_d"])  # noqa: E731

        first = merge("m1", "per_old", "per_new")
        await send(kafka_bootstrap, namespace, first, times=2)  # the second is a redelivery: the inbox skips it
        moved = ["per_new", "per_new", "per_new", "per_x"]
        assert await eventually(probe(persons, moved)) == moved
        await send(kafka_bootstrap, namespace, first)  # the same merge again under a new id: nothing moves
        await send(kafka_bootstrap, namespace, unmerge("m1", "per_old", "per_new"))
        restored = ["per_old", "per_old", "per_new", "per_x"]
        assert await eventually(probe(persons, restored)) == restored

        # Out of order: m2's undoing arrives before m2 itself, which then moves nothing.
        await send(kafka_bootstrap, namespace, unmerge("m2", "per_x", "per_new"))
        await send(kafka_bootstrap, namespace, merge("m2", "per_x", "per_new"))
        await send(kafka_bootstrap, namespace, merge("m3", "per_old", "per_z"))  # a later merge to see it all applied
        final = ["per_z", "per_z", "per_new", "per_x"]
        assert await eventually(probe(persons, final)) == final
        changed = await referral_events(kafka_bootstrap, namespace, "person-changed")
        assert sorted(changed) == sorted(["ref_a", "ref_b"] * 3)  # moved, moved back, moved to per_z; never ref_d


async def _persons(api: httpx.AsyncClient, ids: list[str]) -> list[str]:
    return [await person_of(api, referral_id) for referral_id in ids]


async def test_a_case_closure_shows_on_the_referrals_and_revokes_them_where_the_district_says(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    async with referral_service(url, kafka_bootstrap, namespace,
                                case_closure_revokes_by_district={LOMBOK_TIMUR: True}) as (app, api):
        await refer(app, "ref_jember", "per_1", "chd_1", JEMBER)
        await refer(app, "ref_lotim", "per_2", "chd_2", LOMBOK_TIMUR)
        await send(kafka_bootstrap, namespace, case("chd_1", CaseStatus.CLOSED, T0 + HOUR), times=2)  # redelivered
        await send(kafka_bootstrap, namespace, case("chd_2", CaseStatus.CLOSED, T0 + HOUR))
        await send(kafka_bootstrap, namespace, case("chd_2", CaseStatus.MONITORING, T0))  # stale: older than closure
        revoked = await eventually(probe(lambda: referral_events(kafka_bootstrap, namespace, "revoked"), ["ref_lotim"]))
        assert revoked == ["ref_lotim"]
        lotim = (await api.get("/referrals/ref_lotim", headers=OFFICER)).json()
        jember = (await api.get("/referrals/ref_jember", headers=OFFICER)).json()
        assert (lotim["status"], jember["status"]) == ("revoked", "issued")
        assert await eventually(probe(lambda: _case(app, "ref_jember"), "closed")) == "closed"
        # The Jember case reopens: the open referral shows it; Lombok Timur's stays revoked.
        await send(kafka_bootstrap, namespace, case("chd_1", CaseStatus.MONITORING, T0 + 2 * HOUR))
        assert await eventually(probe(lambda: _case(app, "ref_jember"), "open")) == "open"
        assert await _case(app, "ref_lotim") == "closed"
        assert await referral_events(kafka_bootstrap, namespace, "revoked") == ["ref_lotim"]


async def _case(app: FastAPI, referral_id: str) -> str:
    """Whether the referral shows its child's case closed or open."""
    async with app.state.wiring.unit_of_work() as uow:
        referral = await uow.referrals.get(referral_id)
    assert referral is not None
    return "closed" if referral.case_closed else "open"
