"""Ordering under replay (issue 13, point 12): details recorded before the ones identity holds never overwrite them.

A dead letter replayed from the DLQ lands after newer events of the same record; linking compares the source's
`recorded_at` and skips the older version (no DLQ, no link event), so the newer details and link stay.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from identity.domain.commands import RecordSeen
from identity.service_layer.fake import FakeIdentityUnitOfWork
from simpul_contracts.events import RecordLinkedV1

from .conftest import BAMBANG, NIK, SITI, Link, key, person_of, seen

T1 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
T2 = T1 + dt.timedelta(hours=1)
T3 = T2 + dt.timedelta(hours=1)


def at(record: RecordSeen, recorded_at: dt.datetime | None) -> RecordSeen:
    """The record as the source recorded it at `recorded_at`."""
    return dataclasses.replace(record, recorded_at=recorded_at)


def _links(uow: FakeIdentityUnitOfWork) -> list[str]:
    return [e.source_record_id for e in uow.published if isinstance(e, RecordLinkedV1)]


async def test_a_replayed_older_version_leaves_the_newer_details_and_link(uow: FakeIdentityUnitOfWork,
                                                                          link: Link) -> None:
    # r-2 was first recorded as Siti (the same child as r-1), then corrected to Bambang; the first event was
    # dead-lettered and is replayed after the correction.
    await link(at(seen("r-1", **SITI, nik=NIK), T1))
    await link(at(seen("r-2", **BAMBANG), T2))
    bambang = await person_of(uow, "r-2")
    links = _links(uow)
    await link(at(seen("r-2", **SITI, nik=NIK), T1))
    stored, _ = uow.store.records[key("r-2")]
    assert stored.details == seen("r-2", **BAMBANG).details
    assert stored.recorded_at == T2
    assert await person_of(uow, "r-2") == bambang != await person_of(uow, "r-1")
    assert _links(uow) == links  # nothing announced for the stale version


async def test_a_newer_unchanged_version_keeps_its_time_so_an_older_change_is_refused(uow: FakeIdentityUnitOfWork,
                                                                                       link: Link) -> None:
    # Bambang at T1, Siti at T2 (dead-lettered), Bambang again at T3 (unchanged details held): the T2 replay is older.
    await link(at(seen("r-2", **BAMBANG), T1))
    await link(at(seen("r-2", **BAMBANG), T3))
    await link(at(seen("r-2", **SITI, nik=NIK), T2))
    stored, _ = uow.store.records[key("r-2")]
    assert (stored.details, stored.recorded_at) == (seen("r-2", **BAMBANG).details, T3)
    assert _links(uow) == ["r-2"]


async def test_newer_details_still_replace_older_ones(uow: FakeIdentityUnitOfWork, link: Link) -> None:
    await link(at(seen("r-1", **SITI, nik=NIK), T1))
    await link(at(seen("r-2", **BAMBANG), T1))
    await link(at(seen("r-2", **SITI, nik=NIK), T2))
    stored, _ = uow.store.records[key("r-2")]
    assert (stored.details, stored.recorded_at) == (seen("r-2", **SITI, nik=NIK).details, T2)
    assert await person_of(uow, "r-2") == await person_of(uow, "r-1")


async def test_details_held_without_a_time_are_replaced(uow: FakeIdentityUnitOfWork, link: Link) -> None:
    # Records linked before identity kept `recorded_at` (NULL after the migration) take the next details.
    await link(at(seen("r-2", **BAMBANG), None))
    await link(at(seen("r-2", **SITI), T1))
    stored, _ = uow.store.records[key("r-2")]
    assert (stored.details, stored.recorded_at) == (seen("r-2", **SITI).details, T1)
