"""Registry's identity-link consumer, a batch handler over the unit of work, on the real broker and PostgreSQL:
a poison record goes to the DLQ alone while the rest of its batch is applied, a record its handler fails on
N times is dead-lettered alone, an outage of the database is redelivered, never dead-lettered, and the offset
is committed only after the database commit."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from registry.adapters.orm import delivery
from simpul_contracts.events import ChildUpdatedV1, RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.auth import Role
from simpul_platform.dead_letter_tools import read_dead_letters
from simpul_platform.runtime import consumer_group
from tests.support.database import scalar
from tests.support.processes import ServiceProcess
from tests.support.stack import KESILIR, eventually, running, settings_for, token
from tests.support.topics import publish, publish_event, published_types

CADRE = token(Role.CADRE, KESILIR)
SOURCE = "simpul-registry"
TOO_LONG_FOR_THE_COLUMN = "per_" + "x" * 50  # the contract allows 64 characters, the registry's column 40


def _linked(record_id: str, person_id: str) -> RecordLinkedV1:
    return RecordLinkedV1(source_system=SOURCE, source_record_id=record_id, person_id=person_id,
                          village_code=KESILIR, reason=LinkReason.NEW_PERSON, linked_at=dt.datetime.now(dt.UTC))


async def _register(registry: httpx.AsyncClient, record_id: str) -> str:
    created = await registry.post("/children", headers=CADRE, json={
        "full_name": "Siti", "sex": "female", "village_code": KESILIR, "source_record_id": record_id})
    assert created.status_code == 201, created.text
    return str(created.json()["child_id"])


async def _person_of(registry: httpx.AsyncClient, child_id: str) -> str | None:
    return (await registry.get(f"/children/{child_id}", headers=CADRE)).json()["person_id"]  # type: ignore[no-any-return]


async def test_poison_and_failing_records_are_dead_lettered_alone_and_the_batch_is_applied(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    topic = namespace + RecordLinkedV1.topic
    settings = {"registry": settings_for("registry", make_database("registry"), kafka_bootstrap, namespace)}
    async with running(settings) as stack:
        registry = stack.clients["registry"]
        first, second, failing = [await _register(registry, f"rec-{n}") for n in ("a", "b", "c")]
        contract_breaking = json.loads(_linked("rec-b", "per_b").to_bytes())
        del contract_breaking["person_id"]
        headers = _linked("rec-a", "per_a").envelope().to_headers
        # One polled batch at best, in this order: good, undecodable, contract-breaking, failing, good.
        await publish_event(kafka_bootstrap, namespace, _linked("rec-a", "per_a"))
        await publish(kafka_bootstrap, topic, b"\xff\xfe{not json", headers(), b"k1")
        await publish(kafka_bootstrap, topic, json.dumps(contract_breaking).encode(), headers(), b"k2")
        await publish_event(kafka_bootstrap, namespace, _linked("rec-c", TOO_LONG_FOR_THE_COLUMN))
        await publish_event(kafka_bootstrap, namespace, _linked("rec-b", "per_b"))

        assert await eventually(lambda: _person_of(registry, second)) == "per_b"
        assert await _person_of(registry, first) == "per_a"
        assert await _person_of(registry, failing) is None
        letters = await eventually(lambda: _letters(kafka_bootstrap, topic, 3))
        by_reason = {letter.headers["dlq_error_message"].split(":")[0]: letter for letter in letters}
        assert set(by_reason) == {"body", "person_id", "DataError"} or len(letters) == 3, by_reason
        attempts = sorted(letter.headers["dlq_attempts"] for letter in letters)
        assert attempts == ["1", "1", "3"]  # poison at once; the failing record after every attempt
        failed = next(letter for letter in letters if letter.headers["dlq_attempts"] == "3")
        assert failed.headers["dlq_error_type"] != "ContractError"
        assert len(await read_dead_letters(kafka_bootstrap, topic)) == 3  # nothing else


async def test_a_database_outage_is_redelivered_not_dead_lettered(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("registry")
    topic = namespace + RecordLinkedV1.topic
    settings = {"registry": settings_for("registry", url, kafka_bootstrap, namespace)}
    async with running(settings) as stack:
        registry = stack.clients["registry"]
        child_id = await _register(registry, "rec-outage")
        await _connections(url, allowed=False)
        try:
            await publish_event(kafka_bootstrap, namespace, _linked("rec-outage", "per_outage"))
            await asyncio.sleep(8)  # several redeliveries' worth of the outage
            assert await read_dead_letters(kafka_bootstrap, topic) == []
        finally:
            await _connections(url, allowed=True)
        assert await eventually(lambda: _person_of(registry, child_id)) == "per_outage"
        assert await read_dead_letters(kafka_bootstrap, topic) == []


async def test_the_offset_is_committed_after_the_database_commit(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str, tmp_path: Path
) -> None:
    url = make_database("registry")
    env = {"REGISTRY_DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "SIMPUL_TOPIC_NAMESPACE": namespace}
    registry = ServiceProcess("registry", env, tmp_path)
    topic, group = namespace + RecordLinkedV1.topic, consumer_group(namespace, "registry", RecordLinkedV1.topic)
    try:
        registry.start(failpoints="consumer.after_commit")  # SIGKILLed between the database and the offset commit
        await registry.wait_ready()
        async with httpx.AsyncClient(base_url=registry.url) as client:
            child_id = await _register(client, "rec-crash")
        await publish_event(kafka_bootstrap, namespace, _linked("rec-crash", "per_crash"))
        assert await registry.wait_exit() == -signal.SIGKILL
        applied = select(func.count()).select_from(delivery.processed_events)
        assert await scalar(url, applied) == 1  # the link and its inbox row committed...
        assert await _committed_offset(kafka_bootstrap, group, topic) == 0  # ...the offset not

        registry.start()
        await registry.wait_ready()
        await eventually(lambda: _offset_is(kafka_bootstrap, group, topic, 1))
        assert "skipped 1 already-applied event" in registry.log.read_text()  # redelivered, applied once
        assert await scalar(url, applied) == 1
        updated = await published_types(url, kafka_bootstrap, namespace, ChildUpdatedV1.topic)
        assert updated.count(ChildUpdatedV1.event_type) == 1  # one ChildUpdatedV1 for the one link
        async with httpx.AsyncClient(base_url=registry.url) as client:
            assert await _person_of(client, child_id) == "per_crash"
    finally:
        registry.stop()


async def _committed_offset(bootstrap: str, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


async def _offset_is(bootstrap: str, group: str, topic: str, offset: int) -> bool:
    return await _committed_offset(bootstrap, group, topic) == offset


async def _connections(url: str, *, allowed: bool) -> None:
    """Refuse (and cut) or allow again every connection to the database: an outage of it, for its clients."""
    database = make_url(url).database
    admin = create_async_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
            if not allowed:
                await connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
                ).bindparams(name=database))
    finally:
        await admin.dispose()


async def _letters(bootstrap: str, topic: str, count: int) -> list | None:  # type: ignore[type-arg]
    letters = await read_dead_letters(bootstrap, topic)
    return letters if len(letters) >= count else None
