"""Fault tests on the real broker and PostgreSQL: processes SIGKILLed at the moments that matter."""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select

from registry.adapters.orm import delivery as registry_delivery
from reporting.adapters.orm import delivery as reporting_delivery
from reporting.adapters.orm import record_persons
from simpul_contracts.events import ChildIdentityRecordedV1, RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.auth import Role
from simpul_platform.runtime import consumer_group
from simpul_platform.topic_reader import read_topic
from tests.support.database import scalar
from tests.support.processes import ServiceProcess
from tests.support.stack import KESILIR, eventually, token
from tests.support.topics import header, publish_event

CHILD = {"full_name": "Baiq Nurul", "sex": "female", "village_code": KESILIR, "birth_date": "2013"}
KILLED = -signal.SIGKILL


@pytest.fixture
async def registry(make_database: Callable[..., str], kafka_bootstrap: str, namespace: str,
                   tmp_path: Path) -> AsyncIterator[ServiceProcess]:
    env = {"REGISTRY_DATABASE_URL": make_database("registry"), "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "SIMPUL_TOPIC_NAMESPACE": namespace}
    process = ServiceProcess("registry", env, tmp_path)
    yield process
    process.stop()


async def _count(url: str, query: object) -> int:
    return int(await scalar(url, query))


async def _identity_records(bootstrap: str, namespace: str, child_id: str) -> list[str]:
    records = await read_topic(bootstrap, namespace + ChildIdentityRecordedV1.topic)
    return [header(r, "ce_id") or "" for r in records if header(r, "ce_subject") == child_id]


@pytest.mark.parametrize("failpoint", ["outbox.after_fetch", "outbox.after_publish"])
async def test_registry_killed_between_commit_and_deleting_sent_rows_loses_nothing(
    registry: ServiceProcess, kafka_bootstrap: str, namespace: str, failpoint: str
) -> None:
    registry.start(failpoints=failpoint)
    await registry.wait_ready()
    body = CHILD | {"birth_date": "2013-05-01", "birth_date_precision": "day"}
    async with httpx.AsyncClient(base_url=registry.url) as client:
        created = await client.post("/children", json=body, headers=token(Role.CADRE, KESILIR))
    assert created.status_code == 201, created.text
    child_id = created.json()["child_id"]
    assert await registry.wait_exit() == KILLED
    published_before_restart = await _identity_records(kafka_bootstrap, namespace, child_id)
    assert len(published_before_restart) == (0 if failpoint == "outbox.after_fetch" else 1)

    registry.start()
    await registry.wait_ready()
    url = registry.env["REGISTRY_DATABASE_URL"]
    await eventually(lambda: _is_zero(url, select(func.count()).select_from(registry_delivery.outbox)))
    event_ids = await _identity_records(kafka_bootstrap, namespace, child_id)
    assert len(event_ids) == 1  # published exactly once
    if failpoint == "outbox.after_publish":
        # Published, then the crash came before the row was deleted: the restarted relay finds the event on the
        # topic's tail and deletes the row instead of publishing it again.
        assert "events published before the takeover are deleted" in registry.log.read_text()


async def _is_zero(url: str, query: object) -> bool:
    return await _count(url, query) == 0


def _linked(record_id: str) -> RecordLinkedV1:
    return RecordLinkedV1(source_system="district-app", source_record_id=record_id, person_id="per_crash",
                          village_code=KESILIR, reason=LinkReason.NEW_PERSON, linked_at=dt.datetime.now(dt.UTC))


async def _committed_offset(bootstrap: str, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


async def test_consumer_killed_after_applying_before_offset_commit_applies_once(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str, tmp_path: Path
) -> None:
    url = make_database("reporting")
    env = {"REPORTING_DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "SIMPUL_TOPIC_NAMESPACE": namespace, "REPORTING_MIN_CELL_SIZE": "1"}
    reporting = ServiceProcess("reporting", env, tmp_path)
    topic = namespace + RecordLinkedV1.topic
    group = consumer_group(namespace, "reporting", RecordLinkedV1.topic)
    try:
        reporting.start(failpoints="consumer.after_commit")
        await reporting.wait_ready()
        await publish_event(kafka_bootstrap, namespace, _linked("rec-1"))
        assert await reporting.wait_exit() == KILLED
        applied = select(func.count()).select_from(reporting_delivery.processed_events)
        assert await _count(url, applied) == 1  # the effect and its inbox row committed...
        assert await _committed_offset(kafka_bootstrap, group, topic) == 0  # ...the offset not

        reporting.start()
        await reporting.wait_ready()

        async def offset_committed() -> bool:
            return await _committed_offset(kafka_bootstrap, group, topic) == 1

        await eventually(offset_committed)
        assert "skipped 1 already-applied event" in reporting.log.read_text()  # it was redelivered
        assert await _count(url, applied) == 1
        assert await _count(url, select(func.count()).select_from(record_persons)) == 1
        async with httpx.AsyncClient(base_url=reporting.url) as client:
            feed = (await client.get("/indicators/registered-children", headers=token(Role.MINISTRY))).json()
        assert feed["villages"] == [{"village_code": KESILIR, "children": 1, "suppressed": False}]
    finally:
        reporting.stop()
