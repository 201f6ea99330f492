"""Ordering under replay on the real broker and PostgreSQL (issue 13, point 12): a child-identity event recorded
before the details identity holds (a dead letter replayed after newer events) leaves the newer details and link."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from identity.adapters.orm import source_records
from simpul_contracts.events import ChildIdentityRecordedV1, RecordLinkedV1
from simpul_platform.dead_letter_tools import read_dead_letters
from tests.integration.test_identity_linking import (
    BAMBANG,
    NIK,
    SITI,
    SOURCE,
    applied,
    identity,
    identity_events,
    person_of,
)
from tests.support.database import scalar
from tests.support.topics import publish_event

T1 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
T2 = T1 + dt.timedelta(hours=1)


def child(record_id: str, recorded_at: dt.datetime, **details: Any) -> ChildIdentityRecordedV1:
    """The registry's record of a child with these details, as recorded at `recorded_at`."""
    return ChildIdentityRecordedV1(child_id=f"chd_{record_id}", source_system=SOURCE, source_record_id=record_id,
                                   recorded_at=recorded_at, **details)


async def test_a_replayed_older_child_identity_event_leaves_the_newer_details_and_link(
        make_database: Callable[..., str], kafka_bootstrap: str, namespace: str) -> None:
    url = make_database("identity")
    # r-2 was recorded as Siti (the same child as r-1) at T1, corrected to Bambang at T2; the T1 event was
    # dead-lettered and is replayed after the correction.
    stale = child("r-2", T1, **SITI, nik=NIK)
    async with identity(url, kafka_bootstrap, namespace):
        await publish_event(kafka_bootstrap, namespace, child("r-1", T1, **SITI, nik=NIK))
        await publish_event(kafka_bootstrap, namespace, child("r-2", T2, **BAMBANG))
        await applied(url, 2)
        bambang = await person_of(url, "r-2")
        await publish_event(kafka_bootstrap, namespace, stale)  # the replay
        await applied(url, 3)
    c = source_records.c
    key = (c.source_system == SOURCE, c.source_record_id == "r-2")
    assert await person_of(url, "r-2") == bambang != await person_of(url, "r-1")
    assert await scalar(url, select(c.sex).where(*key)) == "male"  # Bambang's details, not Siti's
    assert await scalar(url, select(c.details_recorded_at).where(*key)) == T2
    links = await identity_events(kafka_bootstrap, namespace, RecordLinkedV1.event_type)
    assert sorted(link["source_record_id"] for link in links) == ["r-1", "r-2"]  # nothing for the stale version
    assert await read_dead_letters(kafka_bootstrap, namespace + stale.topic) == []  # skipped, not dead-lettered
