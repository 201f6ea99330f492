"""The protected feed on the real broker and PostgreSQL: routes scoped by token (the ministry district level and
above only, a district officer every level of their district only), CSV and DHIS2 from the same protected values,
and the aggregate topic reporting.feed.v1 carrying only aggregate-class events with those protected values."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select

from reporting.adapters.feed_repository import feed_publications
from reporting.bootstrap import build
from simpul_contracts.event import DataClass
from simpul_contracts.events import ChildRegisteredV1
from simpul_contracts.events.common import Sex
from simpul_contracts.events.reporting import IndicatorPublishedV1
from simpul_platform.auth import Role
from tests.support.database import scalar
from tests.support.reporting_pilot import Sent, publish_all
from tests.support.reporting_service import MINISTRY, applied, reporting
from tests.support.stack import eventually, settings_for, token
from tests.support.topics import header

KESILIR, WRINGINTELU, SELELOS = "35.09.11.2007", "35.09.08.2005", "52.08.02.2006"
OFFICER_35_09 = token(Role.DISTRICT_OFFICER, "35.09")
DISTRICT_LEVELS = {"kabupaten", "province", "national"}


def registrations() -> list[Sent]:
    """12 children in Kesilir, 3 in Wringintelu (a village small enough to be withheld), 9 in Selelos."""
    def child(name: str, village: str, sex: Sex, month: int) -> ChildRegisteredV1:
        return ChildRegisteredV1(child_id=name, person_id=f"p-{name}", sex=sex, birth_year=2014, village_code=village,
                                 case_id=None, classification=None, status=None,
                                 registered_at=dt.datetime(2026, month, 3, 9, tzinfo=dt.UTC))
    events = [child(f"k{n}", KESILIR, (Sex.FEMALE, Sex.MALE)[n % 2], 1 + n % 2) for n in range(12)]
    events += [child(f"w{n}", WRINGINTELU, Sex.FEMALE, 1) for n in range(3)]
    events += [child(f"s{n}", SELELOS, Sex.MALE, 2) for n in range(9)]
    return [(event, event.envelope()) for event in events]


async def topic_records(bootstrap: str, topic: str, count: int, timeout: float = 60) -> list[Any]:
    """The records on a topic from the beginning, once there are at least `count` (or what came within timeout)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < count and asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        for batch in (await consumer.getmany(timeout_ms=1000)).values():
            records.extend(batch)  # and nothing more than that arrives
        return records
    finally:
        await consumer.stop()


def by_cell(cells: list[dict[str, Any]]) -> dict[tuple[str, ...], int | None]:
    return {(c["indicator"], c["region_code"], c["period"], c["sex"], c["age_band"]): c["value"] for c in cells}


async def test_the_feed_is_scoped_by_token_and_the_topic_carries_only_protected_aggregates(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("reporting")
    sent = registrations()
    async with reporting(url, kafka_bootstrap, namespace) as (_, client):
        await publish_all(kafka_bootstrap, namespace, sent)
        await eventually(lambda: applied(url, len(sent)), timeout=120)
        assert (await client.post("/feed/publications", headers=OFFICER_35_09)).status_code == 403
        answer = await client.post("/feed/publications", headers=MINISTRY)
        assert answer.status_code == 201, answer.text
        publication, expected = answer.json()["publication_id"], answer.json()["events"]

        ministry = (await client.get("/feed", headers=MINISTRY)).json()["cells"]
        officer = (await client.get("/feed", headers=OFFICER_35_09)).json()["cells"]
        assert ministry
        assert officer
        assert {c["region_level"] for c in ministry} == DISTRICT_LEVELS
        assert {c["region_code"] for c in ministry if c["region_level"] == "kabupaten"} == {"35.09", "52.08"}
        assert all(c["region_code"].startswith("35.09") for c in officer)
        assert {c["region_code"] for c in officer if c["region_level"] == "village"} == {KESILIR, WRINGINTELU}
        small = by_cell(officer)["registered", WRINGINTELU, "cumulative", "all", "all"]
        assert small is None, "3 children: withheld"
        values = by_cell(ministry)
        assert all(v is None or v == 0 or v >= 5 for v in values.values())
        shared = by_cell(officer).keys() & values.keys()
        assert shared
        assert all(by_cell(officer)[key] == values[key] for key in shared)

        assert (await client.get("/feed", headers=token(Role.CADRE, KESILIR))).status_code == 403
        assert (await client.get("/feed")).status_code == 401

        rows = list(csv.DictReader(io.StringIO((await client.get("/feed/csv", headers=MINISTRY)).text)))
        assert {(r["indicator"], r["region_code"], r["period"], r["sex"], r["age_band"]):
                (int(r["value"]) if r["value"] else None) for r in rows} == values
        dhis2 = (await client.get("/feed/dhis2", headers=MINISTRY)).json()
        assert dhis2["dataValues"]
        assert {v["orgUnit"] for v in dhis2["dataValues"]} <= {"ID", "35", "52", "35.09", "52.08"}
        assert all(int(v["value"]) == 0 or int(v["value"]) >= 5 for v in dhis2["dataValues"])
        village_dhis2 = (await client.get("/feed/dhis2", headers=OFFICER_35_09)).json()
        assert {v["orgUnit"] for v in village_dhis2["dataValues"]} >= {KESILIR}
        assert WRINGINTELU not in {v["orgUnit"] for v in village_dhis2["dataValues"]
                                   if v["dataElement"] == "SIMPUL_REGISTERED" and v["categoryOptionCombo"] == "default"}

        records = await topic_records(kafka_bootstrap, namespace + IndicatorPublishedV1.topic, expected)
    assert {header(r, "ce_type") for r in records} == {IndicatorPublishedV1.event_type}
    assert IndicatorPublishedV1.data_class is DataClass.AGGREGATE
    events = [e for r in records if (e := IndicatorPublishedV1.model_validate_json(r.value)).publication_id ==
              publication]
    assert len(events) == expected
    assert {e.region_level.value for e in events} <= DISTRICT_LEVELS
    on_topic = {(e.indicator, e.region_code, e.period, e.sex.value, e.age_band.value): e.value for e in events}
    assert on_topic == values
    for record in records:
        assert b"p-" not in record.value
        assert b"35.09.11" not in record.value


class Clock:
    """A clock the test moves, shared by both replicas."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def test_two_replicas_publish_each_month_exactly_once(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("reporting")
    clock = Clock(dt.datetime(2026, 2, 27, 12, tzinfo=dt.UTC))
    settings = settings_for("reporting", url, kafka_bootstrap, namespace, jobs_enabled=True, feed_check_seconds=0.1)
    sent = registrations()
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(2):
            app = build(settings, clock=clock)
            await stack.enter_async_context(app.router.lifespan_context(app))
        await eventually(lambda: published_slots(url, 1), timeout=30)  # February, before any data: no events
        await publish_all(kafka_bootstrap, namespace, sent)
        await eventually(lambda: applied(url, len(sent)), timeout=120)
        clock.now = dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)
        await eventually(lambda: published_slots(url, 2), timeout=30)
        records = await topic_records(kafka_bootstrap, namespace + IndicatorPublishedV1.topic, 1)
        await asyncio.sleep(1.0)  # ten more rounds of both jobs: nothing is published again
        records = await topic_records(kafka_bootstrap, namespace + IndicatorPublishedV1.topic, len(records) + 1,
                                      timeout=2)
    assert int(await scalar(url, select(func.count()).select_from(feed_publications))) == 2
    events = [IndicatorPublishedV1.model_validate_json(r.value) for r in records]
    assert events
    assert len({e.publication_id for e in events}) == 1
    keys = [(e.indicator, e.region_code, e.period, e.sex, e.age_band) for e in events]
    assert len(keys) == len(set(keys)), "each cell once: one replica published"


async def published_slots(url: str, count: int) -> bool:
    return int(await scalar(url, select(func.count()).select_from(feed_publications))) >= count
