"""The provider API's referral routes on the real broker and PostgreSQL: a provider token sees its own referrals only
(another provider's referral is 404 on every route), syncs them page by page with `next` cursors, `Link: rel=next`
and a page ETag answering If-None-Match with 304, reads one with the child's minimal details (never NIK or KK,
audited), takes it along the lifecycle with ETags (a stale If-Match 412, a decline reason from the code list) and
sets its own capacity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import httpx
from sqlalchemy import func, select

from referral.adapters.orm import audit_log
from referral.domain.child_details import ChildDetails, GuardianContact
from simpul_platform.auth import Role
from tests.support.database import scalar
from tests.support.referral_directory import SERVICE_TYPE, GateState, provider_in_state
from tests.support.referral_referrals import OFFICER, Referral, referral_service, referred
from tests.support.stack import KESILIR, eventually, token

NOW = dt.datetime.now(dt.UTC)
INDONESIAN_TODAY = (NOW + dt.timedelta(hours=7)).date()  # service dates are checked in Indonesian (WIB) days


async def _keep_details(service: Referral, child_id: str) -> None:
    async with service.units()() as uow:
        await uow.child_details.keep(ChildDetails(
            child_id=child_id, full_name="Siti Aminah", sex="female", birth_date=dt.date(2013, 6, 2),
            birth_date_precision="day", village_code=KESILIR,
            guardians=(GuardianContact("Pak Karto", "grandfather", "+62 812 0000 1111"),),
            consent_given_on=NOW.date(), as_of=NOW), review_at=NOW)
        await uow.commit()


async def test_a_provider_syncs_reads_and_moves_only_its_own_referrals(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    async with referral_service(url, kafka_bootstrap, namespace) as service:
        mine, theirs = [await provider_in_state(service.units(), GateState.ELIGIBLE, on=NOW.date()) for _ in "ab"]
        first = await referred(service, kafka_bootstrap, namespace, "chd_sync1", mine)
        second = await referred(service, kafka_bootstrap, namespace, "chd_sync2", mine)
        other = await referred(service, kafka_bootstrap, namespace, "chd_sync3", theirs)
        await _keep_details(service, "chd_sync1")
        me = token(Role.PROVIDER, mine, subject="staff-mine")
        client = service.client

        assert (await client.get("/provider/referrals", headers=OFFICER)).status_code == 403
        synced = await _page_of(client, me, 2)
        assert synced.status_code == 200, synced.text
        page = synced.json()
        assert ([i["referral_id"] for i in page["items"]], page["more"]) == ([first, second], False)
        assert [i["etag"] for i in page["items"]] == ['"1"', '"1"']
        assert synced.headers["ETag"].startswith('W/"')
        assert "Link" not in synced.headers
        again = await client.get("/provider/referrals", headers=me | {"If-None-Match": synced.headers["ETag"]})
        assert (again.status_code, again.content) == (304, b"")

        one = await client.get("/provider/referrals", headers=me, params={"limit": 1})
        assert one.json()["more"] is True
        link = one.headers["Link"]
        assert link.endswith('>; rel="next"')
        assert f"cursor={one.json()['next']}" in link
        rest = await client.get(link[1:link.index(">")], headers=me)
        assert [i["referral_id"] for i in rest.json()["items"]] == [second]
        cursor = rest.json()["next"]
        by_time = await client.get("/provider/referrals", headers=me,
                                   params={"updated_since": (NOW - dt.timedelta(hours=1)).isoformat()})
        assert len(by_time.json()["items"]) == 2
        for params in ({"cursor": "garbage"}, {"updated_since": "yesterday"}, {"updated_since": "2026-01-01T00:00"}):
            refused = await client.get("/provider/referrals", headers=me, params=params)
            assert refused.status_code == 422, (params, refused.text)
            assert refused.json()["errors"][0]["field"] == next(iter(params)), refused.text

        for method, path in (("GET", ""), ("POST", "/acknowledge"), ("POST", "/accept"), ("POST", "/start"),
                             ("POST", "/complete")):
            hidden = await client.request(method, f"/provider/referrals/{other}{path}", headers=me)
            assert hidden.status_code == 404, (path, hidden.text)
            assert hidden.headers["content-type"].startswith("application/problem+json")

        read = await client.get(f"/provider/referrals/{first}", headers=me | {"X-Access-Reason": "first visit"})
        assert read.status_code == 200, read.text
        child = read.json()["child"]
        assert (child["full_name"], child["sex"], child["age"], child["village_code"]) == (
            "Siti Aminah", "female", NOW.year - 2013 - ((NOW.month, NOW.day) < (6, 2)), KESILIR)
        assert child["guardians"][0]["phone"] == "+62 812 0000 1111"
        assert not {"nik", "kk", "birth_date"} & set(child), child
        assert read.headers["ETag"] == '"1"'
        assert (await client.get(f"/provider/referrals/{second}", headers=me)).json()["child"] is None
        audited = select(func.count()).select_from(audit_log).where(
            audit_log.c.resource_id == "chd_sync1", audit_log.c.action == "read_child_details",
            audit_log.c.subject == "staff-mine", audit_log.c.reason == "first visit")
        assert await scalar(url, audited) == 1

        stale = await client.post(f"/provider/referrals/{first}/acknowledge", headers=me | {"If-Match": '"7"'})
        assert stale.status_code == 412, stale.text
        acknowledged = await client.post(f"/provider/referrals/{first}/acknowledge", headers=me | {"If-Match": '"1"'})
        assert (acknowledged.status_code, acknowledged.headers["ETag"]) == (200, '"2"'), acknowledged.text
        assert (await client.post(f"/provider/referrals/{first}/complete", headers=me)).status_code == 409
        accepted = await client.post(f"/provider/referrals/{first}/accept", headers=me)
        started = await client.post(f"/provider/referrals/{first}/start", headers=me)
        assert [accepted.json()["status"], started.json()["status"]] == ["accepted", "in_service"]
        district_route = await client.post(f"/referrals/{first}/services", headers=me, json={
            "service_type": SERVICE_TYPE, "delivered_on": str(INDONESIAN_TODAY)})
        assert district_route.status_code == 403, "a provider token reaches only the provider routes"
        recorded = await client.post(f"/provider/referrals/{first}/service-records",
                                     headers=me | {"Idempotency-Key": "first-record"}, json={
            "service_type": SERVICE_TYPE, "delivered_on": str(INDONESIAN_TODAY), "attendance": "attended"})
        assert recorded.status_code == 201, recorded.text
        done = await client.post(f"/provider/referrals/{first}/complete", headers=me)
        assert (done.status_code, done.json()["status"]) == (200, "completed"), done.text

        await client.post(f"/provider/referrals/{second}/acknowledge", headers=me)
        wrong = await client.post(f"/provider/referrals/{second}/decline", headers=me, json={"reason": "busy"})
        assert wrong.status_code == 422
        declined = await client.post(f"/provider/referrals/{second}/decline", headers=me,
                                     json={"reason": "no_capacity"})
        assert declined.json()["history"][-1] == {"status": "declined", "by": "staff-mine",
                                                  "at": declined.json()["history"][-1]["at"], "reason": "no_capacity"}

        changes = await _page_of(client, me, 2, {"cursor": cursor})
        assert [(i["referral_id"], i["status"]) for i in changes.json()["items"]] == [
            (first, "completed"), (second, "declined")]
        assert changes.headers["ETag"] != synced.headers["ETag"]

        full = await client.put("/provider/capacity", headers=me, json={"capacity": "full"})
        assert (full.status_code, full.json()) == (200, {"provider_id": mine, "capacity": "full"}), full.text
        seen = await client.get(f"/providers/{mine}", headers=OFFICER)
        assert seen.json()["capacity"] == "full"
        assert (await client.put("/provider/capacity", headers=OFFICER, json={"capacity": "full"})).status_code == 403


async def _page_of(client: httpx.AsyncClient, headers: dict[str, str], count: int,
                   params: dict[str, str] | None = None) -> httpx.Response:
    """The sync's page once it holds `count` changes (or any refusal). A change shows only once no older transaction
    is open on the server, the documented price of the lossless sync, and the service's own consumers and jobs run
    beside the test: poll, as a provider does."""
    async def page() -> httpx.Response | None:
        answer = await client.get("/provider/referrals", headers=headers, params=params or {})
        return answer if answer.status_code != 200 or len(answer.json()["items"]) >= count else None

    return await eventually(page)
