"""The reporting service in the test process, and how a test knows it has applied what was published."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata
from fastapi import FastAPI
from sqlalchemy import func, select

from reporting.adapters.orm import delivery
from reporting.bootstrap import build
from simpul_platform.auth import Role
from simpul_platform.runtime import consumer_group
from tests.support.database import scalar
from tests.support.reporting_pilot import AS_OF, Sent, publish_all
from tests.support.stack import eventually, settings_for, token

TOPICS = ("registry.child.v1", "identity.person.v1", "identity.link.v1", "referral.referral.v1",
          "referral.provider.v1")
MINISTRY = token(Role.MINISTRY)
OFFICER = token(Role.DISTRICT_OFFICER, "35", "52")
Figures = dict[tuple[str, str, str, str, str], int]


@contextlib.asynccontextmanager
async def reporting(url: str, bootstrap: str, namespace: str) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The reporting service in this process, its clock at the scenario's day."""
    app = build(settings_for("reporting", url, bootstrap, namespace), clock=lambda: AS_OF)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://r") as client:
        yield app, client


async def applied(url: str, count: int) -> bool:
    """At least `count` events applied (inbox rows)."""
    return int(await scalar(url, select(func.count()).select_from(delivery.processed_events))) >= count


async def caught_up(bootstrap: str, namespace: str) -> bool:
    """Reporting's consumer group has committed every offset of the topics it reads (redeliveries included)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        committed: dict[TopicPartition, OffsetAndMetadata] = {}
        for topic in TOPICS:  # one consumer group per topic
            committed |= await admin.list_consumer_group_offsets(consumer_group(namespace, "reporting", topic))
        partitions = [TopicPartition(namespace + topic, p) for topic in TOPICS
                      for p in consumer.partitions_for_topic(namespace + topic) or ()]
        ends = await consumer.end_offsets(partitions)
        return all(committed.get(tp) is not None and committed[tp].offset >= end for tp, end in ends.items() if end)
    finally:
        await consumer.stop()
        await admin.close()


async def http_figures(client: httpx.AsyncClient, expected: Figures) -> Figures:
    """The figures `expected` names, read from GET /indicators (national as the ministry, the rest as an officer
    of both provinces); a cell the answer leaves out is 0."""
    found: Figures = {}
    for region, period in {(key[1], key[4]) for key in expected}:
        headers = MINISTRY if region == "ID" else OFFICER
        answer = await client.get("/indicators", params={"region": region, "period": period}, headers=headers)
        assert answer.status_code == 200, answer.text
        for figure in answer.json()["figures"]:
            key = (figure["indicator"], figure["region_code"], figure["sex"], figure["age_band"], period)
            found[key] = figure["value"]
    return {key: found.get(key, 0) for key in expected}


async def run_phases(url: str, bootstrap: str, namespace: str, phases: Sequence[tuple[list[Sent], Figures]]) -> None:
    """Publish each phase's events, wait until reporting applied them and its group caught up, compare figures."""
    async with reporting(url, bootstrap, namespace) as (_, client):
        published = 0
        for sent, expected in phases:
            await publish_all(bootstrap, namespace, sent)
            published += len({envelope.id for _, envelope in sent})
            await eventually(lambda count=published: applied(url, count), timeout=120)  # type: ignore[misc]
            await eventually(lambda: caught_up(bootstrap, namespace), timeout=60)
            assert await http_figures(client, expected) == expected
