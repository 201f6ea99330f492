"""Service records over the provider API on the real broker and PostgreSQL: a retried push with the same
Idempotency-Key gives one record and one event on `referral.referral.v1`, another body with the key a 422;
concurrent pushes with one key make one record (the others 409 while it is in flight, or its replay); a batch takes
its good records in one transaction with one event each and replays; expired keys are purged."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import httpx
from sqlalchemy import func, select

from referral.adapters.idempotency_keys import idempotency_keys
from referral.domain.consent import RecordedConsent
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral as Aggregate
from referral.entrypoints import idempotency_purge
from simpul_platform.auth import Role
from tests.support.database import scalar
from tests.support.referral_directory import DISTRICT, SERVICE_TYPE
from tests.support.referral_referrals import Referral, referral_events, referral_service
from tests.support.stack import eventually, token

NOW = dt.datetime.now(dt.UTC)
LPA = "prv_lpa_records"
PROVIDER = token(Role.PROVIDER, LPA, subject="lpa-client")
RECORDED = "simpul.referral.referral-service-recorded.v1"
RECORD = {"service_type": SERVICE_TYPE, "delivered_on": str(NOW.date()), "attendance": "attended",
          "outcome": "in_progress", "notes": "first week back in grade 5",
          "attachments": [{"url": "https://files.lpa.example/att/1.pdf", "sha256": "0f" * 32}]}


async def accepted(service: Referral, *numbers: int) -> list[str]:
    """Accepted referrals of LPA (saved directly: the lifecycle up to accept is not what this suite tests)."""
    ids = [f"ref_records_{n}" for n in numbers]
    async with service.units()() as uow:
        for referral_id in ids:
            request = ReferralRequest(referral_id, f"chd_{referral_id}", f"per_{referral_id}", DISTRICT,
                                      (SERVICE_TYPE,), RecordedConsent(NOW - dt.timedelta(days=2)))
            at = NOW - dt.timedelta(days=1)
            history = [Step(s, "lpa-client", at) for s in (ReferralStatus.ISSUED, ReferralStatus.ACKNOWLEDGED,
                                                            ReferralStatus.ACCEPTED)]
            await uow.referrals.save(Aggregate(request, LPA, history, PersonLink(f"per_{referral_id}")))
        await uow.commit()
    return ids


async def push(service: Referral, referral_id: str, body: object, key: str) -> httpx.Response:
    return await service.client.post(f"/provider/referrals/{referral_id}/service-records", json=body,
                                     headers=PROVIDER | {"Idempotency-Key": key})


async def recorded_events(kafka_bootstrap: str, namespace: str, expected: int) -> list[dict[str, object]]:
    async def enough() -> list[dict[str, object]] | None:
        events = [body for kind, body in await referral_events(kafka_bootstrap, namespace) if kind == RECORDED]
        return events if len(events) >= expected else None
    await eventually(enough)
    await asyncio.sleep(1)  # and no more follow
    return [body for kind, body in await referral_events(kafka_bootstrap, namespace) if kind == RECORDED]


async def test_a_retried_push_makes_one_record_and_one_event_and_another_body_is_422(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    async with referral_service(make_database("referral"), kafka_bootstrap, namespace) as service:
        [referral_id] = await accepted(service, 1)
        first = await push(service, referral_id, RECORD, "key-1")
        assert first.status_code == 201, first.text
        again = await push(service, referral_id, RECORD, "key-1")
        assert (again.status_code, again.json(), again.headers["idempotent-replayed"]) == (201, first.json(), "true")
        reused = await push(service, referral_id, RECORD | {"notes": "another"}, "key-1")
        assert reused.status_code == 422, reused.text
        assert reused.json()["errors"][0]["field"] == "Idempotency-Key"
        missing = await service.client.post(f"/provider/referrals/{referral_id}/service-records", json=RECORD,
                                            headers=PROVIDER)
        assert missing.status_code == 400, missing.text
        [event] = await recorded_events(kafka_bootstrap, namespace, 1)
        assert (event["record_id"], event["attendance"], event["outcome"]) == (
            first.json()["record_id"], "attended", "in_progress")
        assert "grade 5" not in str(event)
        async with service.units()() as uow:
            stored = await uow.referrals.get(referral_id)
        assert stored is not None
        assert (stored.status, len(stored.service_records)) == (ReferralStatus.IN_SERVICE, 1)


async def test_concurrent_pushes_with_one_key_make_one_record(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    async with referral_service(make_database("referral"), kafka_bootstrap, namespace) as service:
        [referral_id] = await accepted(service, 2)
        answers = await asyncio.gather(*(push(service, referral_id, RECORD, "key-race") for _ in range(6)))
        statuses = sorted(a.status_code for a in answers)
        assert set(statuses) <= {201, 409}, [a.text for a in answers]
        originals = [a for a in answers if a.status_code == 201 and "idempotent-replayed" not in a.headers]
        assert len(originals) == 1
        assert all(a.json()["errors"][0]["field"] == "Idempotency-Key" for a in answers if a.status_code == 409)
        async with service.units()() as uow:
            stored = await uow.referrals.get(referral_id)
        assert stored is not None
        assert len(stored.service_records) == 1
        assert len(await recorded_events(kafka_bootstrap, namespace, 1)) == 1


async def test_a_batch_commits_its_good_records_with_one_event_each_and_replays(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("referral")
    async with referral_service(url, kafka_bootstrap, namespace) as service:
        ids = await accepted(service, *range(10, 60))
        records = [RECORD | {"referral_id": ids[n % len(ids)]} for n in range(200)]
        records[7] = records[7] | {"referral_id": "ref_records_unknown"}
        records[8] = records[8] | {"delivered_on": str((NOW + dt.timedelta(days=3)).date())}
        body = {"records": records}
        answer = await service.client.post("/provider/service-records:batch", json=body,
                                           headers=PROVIDER | {"Idempotency-Key": "batch-1"})
        assert answer.status_code == 200, answer.text
        results = answer.json()
        assert (results["recorded"], results["refused"]) == (198, 2)
        assert [(r["index"], r["status"]) for r in results["results"] if r["status"] != 201] == [(7, 404), (8, 422)]
        again = await service.client.post("/provider/service-records:batch", json=body,
                                          headers=PROVIDER | {"Idempotency-Key": "batch-1"})
        assert again.json() == results
        events = await recorded_events(kafka_bootstrap, namespace, 198)
        assert sorted(str(e["record_id"]) for e in events) == sorted(
            r["record_id"] for r in results["results"] if r["status"] == 201)

        keys = select(func.count()).select_from(idempotency_keys)
        assert await scalar(url, keys) == 1
        assert await idempotency_purge.purge(service.units(), lambda: NOW + dt.timedelta(hours=23)) == 0
        assert await idempotency_purge.purge(service.units(), lambda: NOW + dt.timedelta(hours=25)) == 1
        assert await scalar(url, keys) == 0
