"""Child records and cases over HTTP on PostgreSQL and the real broker: lifecycle, closure rule, consent,
optimistic concurrency, idempotent retries, scope, encryption at rest and the pseudonymous topic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from registry.adapters.orm import audit_log, children, idempotency_keys
from simpul_contracts.events import ChildIdentityRecordedV1, ChildRegisteredV1
from simpul_platform.auth import Role
from simpul_platform.topic_reader import read_topic
from tests.support.database import scalar
from tests.support.stack import KESILIR, eventually, running, settings_for, token
from tests.support.topics import published_types

SUKORENO = "35.09.27.2002"
CADRE = token(Role.CADRE, KESILIR, subject="kader-kesilir")
NIK = "3509114203140001"  # Wuluhan, 2 March 2014, female
CHILD = {"full_name": "Siti Aminah", "aliases": ["Ninik"], "sex": "female", "village_code": KESILIR,
         "birth_date": "2014-03-02", "birth_date_precision": "day", "nik": NIK,
         "guardians": [{"name": "Bu Sulastri", "relationship": "mother"}],
         "school": {"status": "dropped_out", "grade": 5},
         "work": {"sectors": ["tobacco"], "tasks": "stringing leaves", "hours_per_week": 20,
                  "hazards": ["green_tobacco_sickness"]}}
LABOURER = {"classification": "child_labourer", "reason": "baseline survey"}


def _ago(days: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()


def _day(days_ago: int) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_ago)).isoformat()


async def execute_sql(url: str, statement: Any) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(statement)
    finally:
        await engine.dispose()


async def rows(url: str, query: Any) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(query)).tuples().all())
    finally:
        await engine.dispose()


async def _register(registry: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await registry.post("/children", json=body, headers=CADRE | headers)


async def test_record_with_identity_numbers_etag_and_updates(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("registry")
    async with running({"registry": settings_for("registry", url, kafka_bootstrap, namespace)}) as stack:
        registry = stack.clients["registry"]
        created = await _register(registry, CHILD | {"sex": "male"})
        assert created.status_code == 201, created.text
        body = created.json()
        assert (body["nik"], body["aliases"], body["work"]["sectors"]) == (NIK, ["Ninik"], ["tobacco"])
        assert [w["code"] for w in body["identity_warnings"]] == ["nik_sex_differs"]
        assert created.headers["ETag"] == '"1"'
        path = f"/children/{body['child_id']}"
        # Raw SQL: the column type would decrypt what it reads.
        stored = await scalar(url, text("select nik from children where child_id = :id").bindparams(
            id=body["child_id"]))
        assert NIK not in stored
        assert stored.startswith("v2:")

        assert (await registry.patch(path, json={"sex": "female"}, headers=CADRE)).status_code == 428
        stale = await registry.patch(path, json={"sex": "female"}, headers=CADRE | {"If-Match": '"7"'})
        assert stale.status_code == 412
        assert stale.headers["content-type"] == "application/problem+json"
        fixed = await registry.patch(path, json={"sex": "female"}, headers=CADRE | {"If-Match": '"1"'})
        assert (fixed.status_code, fixed.headers["ETag"]) == (200, '"2"')
        assert fixed.json()["identity_warnings"] == []
        again = await registry.patch(path, json={"full_name": "Siti"}, headers=CADRE | {"If-Match": '"1"'})
        assert again.status_code == 412
        read = await registry.get(path, headers=CADRE | {"X-Access-Reason": "home visit"})
        assert (read.headers["ETag"], read.json()["sex"]) == ('"2"', "female")
        reasons = await scalar(url, select(func.count()).select_from(audit_log).where(
            audit_log.c.reason == "home visit", audit_log.c.subject == "kader-kesilir"))
        assert reasons == 1

        bad_nik = await _register(registry, CHILD | {"nik": "9909114203140001"})
        assert bad_nik.status_code == 422
        assert bad_nik.json()["errors"][0]["field"] == "nik"
        assert NIK not in bad_nik.text


async def test_idempotent_retries(make_database: Callable[..., str], kafka_bootstrap: str, namespace: str) -> None:
    url = make_database("registry")
    settings = settings_for("registry", url, kafka_bootstrap, namespace, idempotency_purge_seconds=0.2)
    async with running({"registry": settings}) as stack:
        registry = stack.clients["registry"]
        key = {"Idempotency-Key": "survey-7-row-3"}
        first = await _register(registry, CHILD, **key)
        assert (first.status_code, first.headers["ETag"]) == (201, '"1"')
        assert "Idempotent-Replayed" not in first.headers
        child = f"/children/{first.json()['child_id']}"
        changed = await registry.patch(child, json={"full_name": "Siti Aminah Putri"}, headers=CADRE | {
            "If-Match": '"1"'})
        assert changed.headers["ETag"] == '"2"'
        # A retry gets the first answer again, as it was (not the record as it stands now), marked as a replay.
        retry = await _register(registry, CHILD, **key)
        assert (retry.status_code, retry.content, retry.headers["ETag"]) == (201, first.content, '"1"')
        assert retry.headers["Idempotent-Replayed"] == "true"
        quoted = await _register(registry, CHILD, **{"Idempotency-Key": '"survey-7-row-3"'})  # as an sf-string
        assert (quoted.content, quoted.headers["Idempotent-Replayed"]) == (first.content, "true")
        # The same key with another body is a 422 naming the header (the draft's rule; it was a 409).
        other = await _register(registry, CHILD | {"full_name": "Siti A."}, **key)
        assert other.status_code == 422
        assert other.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in other.json()["errors"]] == ["Idempotency-Key"]
        assert await scalar(url, select(func.count()).select_from(children)) == 1
        identity = await published_types(url, kafka_bootstrap, namespace, ChildIdentityRecordedV1.topic)
        registered = await published_types(url, kafka_bootstrap, namespace, ChildRegisteredV1.topic)
        assert identity.count(ChildIdentityRecordedV1.event_type) == 2  # the registration and the new name
        assert registered.count(ChildRegisteredV1.event_type) == 1
        # The stored answer holds the NIK, sealed; the replay was a read of the child, audited as one.
        body = await scalar(url, select(idempotency_keys.c.body))
        assert NIK.encode() not in body
        assert body.startswith(b"v2:")
        assert await scalar(url, select(func.count()).select_from(audit_log).where(
            audit_log.c.action == "register")) == 3

        # An expired key is forgotten: the same request runs as new; the purge deletes expired keys.
        await execute_sql(url, update(idempotency_keys).values(expires_at=dt.datetime.now(dt.UTC)))
        late = await _register(registry, CHILD, **key)
        assert late.status_code == 201
        assert "Idempotent-Replayed" not in late.headers
        assert late.json()["child_id"] != first.json()["child_id"]
        assert await scalar(url, select(func.count()).select_from(idempotency_keys)) == 1
        await execute_sql(url, update(idempotency_keys).values(expires_at=dt.datetime.now(dt.UTC)))

        async def purged() -> bool:
            return await scalar(url, select(func.count()).select_from(idempotency_keys)) == 0

        await eventually(purged, timeout=10)  # by the service's own job


async def test_visits_and_consent_replay_their_first_answer(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("registry")
    async with running({"registry": settings_for("registry", url, kafka_bootstrap, namespace)}) as stack:
        registry = stack.clients["registry"]
        created = await _register(registry, CHILD | {"classification": LABOURER | {"at": _ago(30)}})
        child = f"/children/{created.json()['child_id']}"
        visit = {"visited_on": _day(1), "child_working": True, "school_status": "dropped_out", "school_grade": 5,
                 "sectors": ["tobacco"], "hazards": [], "notes": "first visit"}
        consent = {"purpose": "referral", "decision": "given", "decided_on": _day(1)}
        for path, body, another in ((f"{child}/visits", visit, {"notes": "another visit"}),
                                    (f"{child}/consent", consent, {"decision": "refused"})):
            key = CADRE | {"Idempotency-Key": f"key-{path}"}
            first = await registry.post(path, json=body, headers=key)
            assert first.status_code == 201, first.text
            retry = await registry.post(path, json=body, headers=key)
            assert (retry.status_code, retry.content, retry.headers["Idempotent-Replayed"]) == (
                201, first.content, "true")
            other = await registry.post(path, json=body | another, headers=key)
            assert (other.status_code, [e["field"] for e in other.json()["errors"]]) == (422, ["Idempotency-Key"])
        visits = (await registry.get(f"{child}/visits", headers=CADRE)).json()
        assert [v["notes"] for v in visits] == ["first visit"]
        history = (await registry.get(f"{child}/consent", headers=CADRE)).json()["history"]
        assert len(history) == 1
        actions = {action: count for action, count in (await rows(url, select(
            audit_log.c.action, func.count()).group_by(audit_log.c.action)))}
        assert (actions["read_visits"], actions["read_consent"]) == (3, 3)  # first, replay and the list


async def test_every_lifecycle_transition_and_the_closure_rule(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("registry")
    async with running({"registry": settings_for("registry", url, kafka_bootstrap, namespace)}) as stack:
        registry = stack.clients["registry"]
        created = await _register(registry, CHILD | {"classification": LABOURER | {"at": _ago(400)}})
        child = f"/children/{created.json()['child_id']}"
        assert created.json()["case"]["status"] == "identified"

        async def move(status: str, days_ago: int, **extra: str) -> httpx.Response:
            return await registry.post(f"{child}/status", headers=CADRE, json={
                "status": status, "reason": "team decision", "at": _ago(days_ago), **extra})

        skipped = await move("monitoring", 390)
        assert skipped.status_code == 409
        assert skipped.json()["errors"][0]["field"] == "status"
        assert (await move("assessed", 390)).json()["status"] == "assessed"
        assert (await move("remediation_in_progress", 380)).json()["status"] == "remediation_in_progress"
        assert (await move("monitoring", 370)).json()["status"] == "monitoring"
        assert (await move("remediation_in_progress", 360)).json()["status"] == "remediation_in_progress"
        assert (await move("monitoring", 300)).json()["status"] == "monitoring"

        async def visit(days_ago: int, working: bool) -> httpx.Response:
            work = {"sectors": ["tobacco"], "hours_per_week": 10} if working else {}
            return await registry.post(f"{child}/visits", headers=CADRE, json={
                "visited_on": _day(days_ago), "child_working": working, "school_status": "enrolled", **work})

        assert (await visit(250, False)).status_code == 201
        refused = await move("closed", 1, closure_reason="withdrawn")
        assert refused.status_code == 409
        assert refused.json()["errors"][0]["field"] == "closure_reason"
        assert "1 of the 2 visits" in refused.json()["errors"][0]["reason"]
        assert (await visit(200, False)).status_code == 201  # only 50 days after the first: does not count
        assert (await move("closed", 1, closure_reason="withdrawn")).status_code == 409
        assert (await visit(100, False)).status_code == 201
        closed = await move("closed", 1, closure_reason="withdrawn")
        assert closed.status_code == 200, closed.text
        assert closed.json()["closure_reason"] == "withdrawn"
        assert (await visit(0, False)).status_code == 409  # a closed case takes no visits
        reopened = await registry.post(f"{child}/status", headers=CADRE, json={
            "status": "monitoring", "reason": "found working again"})
        assert reopened.json()["status"] == "monitoring"
        assert (await move("closed", 0, closure_reason="moved")).json()["closure_reason"] == "moved"
        visits = await registry.get(f"{child}/visits", headers=CADRE)
        assert [v["visited_on"] for v in visits.json()] == [_day(250), _day(200), _day(100)]
        history = (await registry.get(f"{child}/case/history", headers=CADRE)).json()
        assert [(c["previous"], c["status"]) for c in history["statuses"]] == [
            (None, "identified"), ("identified", "assessed"), ("assessed", "remediation_in_progress"),
            ("remediation_in_progress", "monitoring"), ("monitoring", "remediation_in_progress"),
            ("remediation_in_progress", "monitoring"), ("monitoring", "closed"), ("closed", "monitoring"),
            ("monitoring", "closed")]
        assert [c["closure_reason"] for c in history["statuses"] if c["status"] == "closed"] == ["withdrawn", "moved"]
        assert {c["by"] for c in history["statuses"]} == {"kader-kesilir"}
        assert history["statuses"][7]["reason"] == "found working again"
        assert [c["classification"] for c in history["classifications"]] == ["child_labourer"]

        found = await registry.get("/children", headers=CADRE, params={"status": "closed", "name": "siti"})
        assert [c["child_id"] for c in found.json()["items"]] == [created.json()["child_id"]]
        by_alias = await registry.get("/children", headers=CADRE, params={"name": "NINIK"})  # a nickname
        assert [c["child_id"] for c in by_alias.json()["items"]] == [created.json()["child_id"]]
        assert (await registry.get("/children", headers=CADRE, params={"name": "aminah ninik"})).json()[
            "items"] == []  # one name at a time: the full name and each alias are separate
        assert (await registry.get("/children", headers=CADRE, params={"age_max": 5})).json()["items"] == []


async def test_consent_scope_and_the_pseudonymous_topic(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("registry")
    async with running({"registry": settings_for("registry", url, kafka_bootstrap, namespace)}) as stack:
        registry = stack.clients["registry"]
        created = await _register(registry, CHILD | {"classification": LABOURER})
        child = f"/children/{created.json()['child_id']}"
        premature = await registry.post(f"{child}/consent", headers=CADRE, json={
            "purpose": "referral", "decision": "withdrawn", "decided_on": _day(3)})
        assert premature.status_code == 409
        given = await registry.post(f"{child}/consent", headers=CADRE, json={
            "purpose": "referral", "decision": "given", "decided_on": _day(3)})
        assert given.json()["in_force"]["referral"] == "given"
        withdrawn = await registry.post(f"{child}/consent", headers=CADRE, json={
            "purpose": "referral", "decision": "withdrawn", "decided_on": _day(1)})
        assert withdrawn.json()["in_force"] == {"data_sharing": None, "referral": "withdrawn"}
        assert len((await registry.get(f"{child}/consent", headers=CADRE)).json()["history"]) == 2

        sukoreno_child = await registry.post("/children", headers=token(Role.CADRE, SUKORENO), json={
            "full_name": "Putri Ayu", "sex": "female", "village_code": SUKORENO})
        other = f"/children/{sukoreno_child.json()['child_id']}"
        for method, path in (("GET", other), ("GET", f"{other}/visits"), ("GET", f"{other}/consent")):
            assert (await registry.request(method, path, headers=CADRE)).status_code == 404
        assert (await registry.patch(other, json={"sex": "male"}, headers=CADRE | {"If-Match": '"1"'})
                ).status_code == 404
        ministry = token(Role.MINISTRY)
        for method, path in (("GET", child), ("GET", "/children"), ("GET", f"{child}/consent"),
                             ("POST", f"{child}/status")):
            assert (await registry.request(method, path, headers=ministry, json={})).status_code == 403
        district = await registry.get("/children", headers=token(Role.DISTRICT_OFFICER, "35.09"))
        assert len(district.json()["items"]) == 2
        kesilir = await registry.get("/children", headers=CADRE)
        assert [c["village_code"] for c in kesilir.json()["items"]] == [KESILIR]

        topic = namespace + "registry.child.v1"

        async def published() -> list[Any] | None:
            records = await read_topic(kafka_bootstrap, topic)
            return records if len(records) >= 6 else None  # 2x registered, classified, status, 2x consent

        records = await eventually(published)
        for record in records:
            for secret in ("Siti", "Aminah", "Ninik", "Sulastri", "Putri", NIK, "2014-03-02"):
                assert secret.encode() not in record.value
                assert all(secret.encode() not in (value or b"") for _, value in record.headers)
        assert NIK not in str(await scalar(url, text("select string_agg(nik, ',') from children")))
