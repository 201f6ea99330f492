"""Identity's use cases against the in-memory unit of work: no Kafka, no PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from identity.domain.commands import Actor, LinkRecords, RecordSeen
from identity.domain.source_records import Details, RecordKey, Thresholds
from identity.service_layer.fake import FakeIdentityUnitOfWork
from identity.service_layer.handlers.linking import link_records
from simpul_platform.unit_of_work import execute

SOURCE = "simpul-registry"
KESILIR = "35.09.11.2007"
NIK = "3509114203140001"  # Wuluhan, 2 March 2014, female
SITI: dict[str, Any] = {"full_name": "Siti Aminah", "sex": "female", "birth_date": dt.date(2014, 3, 2),
                        "birth_date_precision": "day", "village_code": KESILIR}
# Siti written with another birth day: the same girl miswritten, or a sister. Never certain, never vetoed.
SITI_UNSURE: dict[str, Any] = SITI | {"birth_date": dt.date(2014, 3, 20)}
BAMBANG: dict[str, Any] = {"full_name": "Bambang Sutrisno", "sex": "male", "birth_date": dt.date(2010, 5, 5),
                           "birth_date_precision": "day", "village_code": KESILIR}
OFFICER = Actor("officer-jember", "district_officer", ("35.09",), "monthly review")
ELSEWHERE = Actor("officer-banyuwangi", "district_officer", ("35.10",), "curious")


def seen(record_id: str, **details: Any) -> RecordSeen:
    """A registry record with these details."""
    return RecordSeen(RecordKey(SOURCE, record_id), Details(**details))


def key(record_id: str) -> RecordKey:
    """The key of a registry record."""
    return RecordKey(SOURCE, record_id)


Link = Callable[..., Awaitable[None]]


# Every candidate short of certainty goes to a reviewer: review flows stay independent of the engine's weights.
ASK_ALWAYS = Thresholds(auto_link=0.999999, review=1e-6)


@pytest.fixture
def uow() -> FakeIdentityUnitOfWork:
    """A fresh in-memory identity with the hand-set model."""
    return FakeIdentityUnitOfWork()


@pytest.fixture
def asking_uow() -> FakeIdentityUnitOfWork:
    """A fresh in-memory identity that asks a reviewer about every candidate short of certainty."""
    return FakeIdentityUnitOfWork(thresholds=ASK_ALWAYS)


@pytest.fixture
def link(uow: FakeIdentityUnitOfWork) -> Link:
    """Link records as the consumer does: one command per run, committed."""

    async def run(*records: RecordSeen) -> None:
        await execute(uow, link_records, LinkRecords(records))

    return run


async def person_of(uow: FakeIdentityUnitOfWork, record_id: str) -> str:
    """The person a record is linked to now."""
    record = uow.store.records[key(record_id)][0]
    return record.person_id
