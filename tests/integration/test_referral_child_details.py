"""The minimal child details for referral (ADR 0004) on the real broker and PostgreSQL: registry publishes them on
the restricted topic only while referral consent holds, referral keeps them encrypted, never with NIK or KK, a
district officer reads them (audited), and they are gone after the withdrawal and after the retention; redelivered
and out-of-order events never undo a newer state."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from referral.adapters import orm as referral_orm
from referral.bootstrap import build as build_referral
from referral.domain.consent import RecordedConsent
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from referral.entrypoints.erasure import erase_expired
from registry.bootstrap import build as build_registry
from simpul_contracts.events import ChildReferralDetailsRecordedV1, ChildReferralDetailsWithdrawnV1
from simpul_platform.auth import Role
from simpul_platform.topic_reader import read_topic
from simpul_platform.unit_of_work import execute
from tests.support.database import scalar
from tests.support.stack import KESILIR, eventually, settings_for, token
from tests.support.topics import publish, publish_event

NIK, KK, MOTHER = "3509114203140001", "3509110101010001", "Sulastri"
SITI = {"full_name": "Siti Aminah", "sex": "female", "village_code": KESILIR, "birth_date": "2014-03-02",
        "birth_date_precision": "day", "nik": NIK, "kk_number": KK, "mother_name": MOTHER,
        "guardians": [{"name": "Pak Karto", "relationship": "grandfather", "phone": "+62 812-3456-7890"}]}
OFFICER = token(Role.DISTRICT_OFFICER, "35.09", subject="officer-jember")
CADRE = token(Role.CADRE, KESILIR, subject="kader-kesilir")
T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
TOPIC = ChildReferralDetailsRecordedV1.topic


class Clock:
    """A clock the test moves."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@contextlib.asynccontextmanager
async def started(apps: dict[str, FastAPI]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Run the apps' lifespans in this process, each with an HTTP client."""
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for name, app in apps.items():
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
            clients[name] = await stack.enter_async_context(client)
        yield clients


def referral_app(url: str, bootstrap: str, namespace: str, clock: Callable[[], dt.datetime] | None = None,
                 **extra: Any) -> FastAPI:
    """Referral on its database, the test's topics, its jobs off (the test drives the erasure job itself)."""
    return build_referral(settings_for("referral", url, bootstrap, namespace, jobs_enabled=False, **extra),
                          clock=clock)


async def rows(url: str, table: Any) -> list[dict[str, Any]]:
    """Every row of a table, as stored."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return [dict(row._mapping) for row in await connection.execute(select(table))]
    finally:
        await engine.dispose()


async def raw_details(url: str) -> list[dict[str, Any]]:
    """The child_details rows as the database holds them: the details column as stored, not decrypted."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.exec_driver_sql("SELECT child_id, details, as_of FROM child_details")
            return [dict(row._mapping) for row in result]
    finally:
        await engine.dispose()


async def everything_referral_stores(url: str) -> str:
    """Every row of every referral table as text (encrypted columns as stored)."""
    engine = create_async_engine(url)
    texts = []
    try:
        async with engine.connect() as connection:
            for table in referral_orm.metadata.sorted_tables:
                result = await connection.exec_driver_sql(f'SELECT * FROM "{table.name}"')
                texts += [repr(tuple(row)) for row in result]
    finally:
        await engine.dispose()
    return "\n".join(texts)


async def test_consent_brings_the_minimal_details_to_referral_encrypted_and_the_withdrawal_takes_them_away(
        make_database: Callable[..., str], kafka_bootstrap: str, namespace: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    registry_url, referral_url = make_database("registry"), make_database("referral")
    apps = {"registry": build_registry(settings_for("registry", registry_url, kafka_bootstrap, namespace)),
            "referral": referral_app(referral_url, kafka_bootstrap, namespace)}
    async with started(apps) as clients:
        registry, referral = clients["registry"], clients["referral"]
        child_id = (await registry.post("/children", headers=CADRE, json=SITI)).json()["child_id"]
        details_url = f"/children/{child_id}/details"
        assert (await registry.post(f"/children/{child_id}/consent", headers=CADRE, json={
            "purpose": "referral", "decision": "given", "decided_on": "2026-05-30"})).status_code == 201

        async def readable() -> httpx.Response | None:
            answer = await referral.get(details_url, headers=OFFICER | {"X-Access-Reason": "case conference"})
            return answer if answer.status_code == 200 else None

        body = (await eventually(readable)).json()
        assert (body["full_name"], body["sex"], body["village_code"]) == ("Siti Aminah", "female", KESILIR)
        assert body["guardians"] == [{"name": "Pak Karto", "relationship": "grandfather",
                                      "phone": "+62 812-3456-7890"}]
        assert isinstance(body["age"], int)
        assert NIK not in str(body)
        assert KK not in str(body)
        assert MOTHER not in str(body)
        other_district = token(Role.DISTRICT_OFFICER, "52.03")
        assert (await referral.get(details_url, headers=other_district)).status_code == 404

        [stored] = await raw_details(referral_url)
        assert stored["details"].startswith("v2:")  # an AES-GCM field token, not the JSON
        assert "Siti" not in stored["details"]
        everything = await everything_referral_stores(referral_url)
        for secret in (NIK, KK, MOTHER, "Siti", "Karto", "3456-7890"):
            assert secret not in everything
        audit = await rows(referral_url, referral_orm.audit_log)
        assert [(a["subject"], a["action"], a["resource_id"], a["reason"]) for a in audit] == [
            ("officer-jember", "read_child_details", child_id, "case conference")]

        assert (await registry.post(f"/children/{child_id}/consent", headers=CADRE, json={
            "purpose": "referral", "decision": "withdrawn", "decided_on": "2026-05-31"})).status_code == 201

        async def gone() -> bool:
            return (await referral.get(details_url, headers=OFFICER)).status_code == 404

        await eventually(gone)
        [stored] = await raw_details(referral_url)
        assert stored["details"] is None

    records = await read_topic(kafka_bootstrap, namespace + TOPIC)
    types = [dict(r.headers or ())["ce_type"].decode() for r in records]
    assert types == [ChildReferralDetailsRecordedV1.event_type, ChildReferralDetailsWithdrawnV1.event_type]
    for record in records:
        assert record.key == child_id.encode()
        assert record.value is not None
        for secret in (NIK, KK, MOTHER):
            assert secret.encode() not in record.value
    logged = [record.getMessage() for record in caplog.records]
    assert len(logged) > 20  # the capture saw the services' logging
    assert [s for s in ("Siti", "Karto", "3456-7890", NIK, KK, MOTHER) for line in logged if s in line] == []


def _details(child_id: str, at: dt.datetime, name: str = "Siti Aminah") -> ChildReferralDetailsRecordedV1:
    return ChildReferralDetailsRecordedV1(
        child_id=child_id, full_name=name, sex="female", birth_date=dt.date(2014, 3, 2), birth_date_precision="day",
        village_code=KESILIR, guardians=[{"name": "Pak Karto", "relationship": "grandfather"}],
        consent_given_on=at.date(), recorded_at=at)


def _withdrawn(child_id: str, at: dt.datetime) -> ChildReferralDetailsWithdrawnV1:
    return ChildReferralDetailsWithdrawnV1(child_id=child_id, reason="consent_withdrawn", recorded_at=at)


async def _applied(url: str, count: int) -> None:
    async def done() -> bool:
        processed = referral_orm.delivery.processed_events
        return int(await scalar(url, select(func.count()).select_from(processed))) >= count

    await eventually(done)


async def test_redelivered_and_out_of_order_events_never_undo_a_newer_state(
        make_database: Callable[..., str], kafka_bootstrap: str, namespace: str) -> None:
    url = make_database("referral")
    async with started({"referral": referral_app(url, kafka_bootstrap, namespace)}) as clients:
        referral = clients["referral"]
        newer = _details("chd_a", T0 + dt.timedelta(days=2), name="Siti A.")
        envelope = newer.envelope()
        headers, value = envelope.to_headers(), newer.to_bytes()
        await publish(kafka_bootstrap, namespace + TOPIC, value, headers, b"chd_a")
        await publish_event(kafka_bootstrap, namespace, _withdrawn("chd_a", T0 + dt.timedelta(days=1)))  # older
        await publish(kafka_bootstrap, namespace + TOPIC, value, headers, b"chd_a")  # redelivered, same id
        await publish_event(kafka_bootstrap, namespace, _details("chd_a", T0))  # an old version replayed late
        await _applied(url, 3)
        answer = await referral.get("/children/chd_a/details", headers=OFFICER)
        assert (answer.status_code, answer.json()["full_name"]) == (200, "Siti A.")

        await publish_event(kafka_bootstrap, namespace, _withdrawn("chd_a", T0 + dt.timedelta(days=3)))
        await publish_event(kafka_bootstrap, namespace, _details("chd_a", T0 + dt.timedelta(days=2, hours=1)))
        await _applied(url, 5)
        assert (await referral.get("/children/chd_a/details", headers=OFFICER)).status_code == 404


async def _closed_referral(app: FastAPI, child_id: str, closed_at: dt.datetime) -> None:
    request = ReferralRequest(referral_id=f"ref_{child_id}", child_id=child_id, person_id=f"per_{child_id}",
                              district="35.09", service_types=("child.school_re_entry",),
                              consent=RecordedConsent(T0))
    referral = Referral(request, "lpa-jember", [Step(ReferralStatus.ISSUED, "officer", T0),
                                                Step(ReferralStatus.COMPLETED, "officer", closed_at)],
                        PersonLink(f"per_{child_id}"))

    async def save(_: None, uow: Any) -> None:
        await uow.referrals.save(referral)

    await execute(app.state.wiring.unit_of_work(), save, None)


async def test_the_details_are_erased_the_retention_after_the_last_referral_closed_once_over_two_replicas(
        make_database: Callable[..., str], kafka_bootstrap: str, namespace: str) -> None:
    url, clock = make_database("referral"), Clock(T0)
    app = referral_app(url, kafka_bootstrap, namespace, clock, child_details_retention_days=30)
    replica = referral_app(url, kafka_bootstrap, namespace, clock, child_details_retention_days=30)
    async with started({"referral": app, "replica": replica}) as clients:
        for child_id in ("chd_closed", "chd_never_referred"):
            await publish_event(kafka_bootstrap, namespace, _details(child_id, T0))
        await _applied(url, 2)
        closed_at = T0 + dt.timedelta(days=5)
        await _closed_referral(app, "chd_closed", closed_at)
        settings = app.state.wiring.settings

        clock.now = closed_at + dt.timedelta(days=30) - dt.timedelta(minutes=1)
        assert await erase_expired(app.state.wiring.unit_of_work, clock, settings) == 0
        assert (await clients["referral"].get("/children/chd_closed/details", headers=OFFICER)).status_code == 200

        clock.now = closed_at + dt.timedelta(days=30)
        erased = await asyncio.gather(erase_expired(app.state.wiring.unit_of_work, clock, settings),
                                      erase_expired(replica.state.wiring.unit_of_work, clock, settings))
        assert sorted(erased) == [0, 1]  # one replica erased it, the other found nothing left to do
        assert (await clients["referral"].get("/children/chd_closed/details", headers=OFFICER)).status_code == 404
        kept = await clients["referral"].get("/children/chd_never_referred/details", headers=OFFICER)
        assert kept.status_code == 200

    stored = {row["child_id"]: row["details"] for row in await raw_details(url)}
    assert stored["chd_closed"] is None
    assert stored["chd_never_referred"].startswith("v2:")
    erasures = [a for a in await rows(url, referral_orm.audit_log) if a["action"] == "erase_child_details"]
    assert [(a["resource_id"], a["subject"]) for a in erasures] == [("chd_closed", "system")]
    assert set(stored) == {"chd_closed", "chd_never_referred"}  # the erased child's row keeps only its moment
