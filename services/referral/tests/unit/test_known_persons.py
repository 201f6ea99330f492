"""Referral's use case against the in-memory unit of work: the persons it may refer, by source record."""

from __future__ import annotations

import datetime as dt

from referral.domain.commands.persons import RecordKnownPersons
from referral.domain.model import KnownPerson
from referral.entrypoints.consumers.identity_links import record_linked
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers.persons import record_known_persons
from simpul_contracts.events import RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.delivery import Delivery
from simpul_platform.unit_of_work import execute

VILLAGE = "35.09.11.2007"


def person(record: str, person_id: str, linked_at: dt.datetime | None = None) -> KnownPerson:
    return KnownPerson(record_key=f"registry:{record}", person_id=person_id, village_code=VILLAGE,
                       linked_at=linked_at)


async def test_a_linked_record_names_its_person() -> None:
    uow = FakeReferralUnitOfWork()
    await execute(uow, record_known_persons, RecordKnownPersons((person("a", "p1"),)))
    async with uow:
        assert await uow.known_persons.of_record("registry:a") == person("a", "p1")


async def test_a_relink_replaces_the_person_and_the_last_link_in_a_run_wins() -> None:
    uow = FakeReferralUnitOfWork()
    await execute(uow, record_known_persons, RecordKnownPersons((person("a", "p1"),)))
    await execute(uow, record_known_persons, RecordKnownPersons((person("a", "p2"), person("a", "p3"))))
    async with uow:
        assert await uow.known_persons.of_record("registry:a") == person("a", "p3")


async def test_a_rolled_back_run_leaves_no_person() -> None:
    uow = FakeReferralUnitOfWork()
    async with uow:
        await record_known_persons(RecordKnownPersons((person("a", "p1"),)), uow)
    async with uow:
        assert await uow.known_persons.of_record("registry:a") is None


async def test_the_consumer_applies_link_events_from_identity() -> None:
    event = RecordLinkedV1(source_system="registry", source_record_id="a", person_id="p1", village_code=VILLAGE,
                           reason=LinkReason.NEW_PERSON, linked_at=dt.datetime.now(dt.UTC))
    uow = FakeReferralUnitOfWork()
    async with uow:
        await record_linked(uow, [Delivery(record=None, envelope=event.envelope(), event=event)])  # type: ignore[arg-type]
        await uow.commit()
    async with uow:
        assert await uow.known_persons.of_record("registry:a") == person("a", "p1", event.linked_at)


T1 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
T2 = T1 + dt.timedelta(hours=1)


async def test_a_replayed_older_link_leaves_the_newer_person() -> None:
    # identity linked a to p1 at T1, relinked it to p2 at T2; the T1 event was dead-lettered and replayed late.
    uow = FakeReferralUnitOfWork()
    await execute(uow, record_known_persons, RecordKnownPersons((person("a", "p2", T2),)))
    await execute(uow, record_known_persons, RecordKnownPersons((person("a", "p1", T1),)))
    async with uow:
        assert await uow.known_persons.of_record("registry:a") == person("a", "p2", T2)


async def test_an_older_link_later_in_the_same_run_does_not_win() -> None:
    uow = FakeReferralUnitOfWork()
    await execute(uow, record_known_persons, RecordKnownPersons((person("a", "p2", T2), person("a", "p1", T1))))
    async with uow:
        assert await uow.known_persons.of_record("registry:a") == person("a", "p2", T2)


async def test_a_newer_link_replaces_one_held_without_a_time() -> None:
    uow = FakeReferralUnitOfWork()
    await execute(uow, record_known_persons, RecordKnownPersons((person("a", "p1"),)))
    await execute(uow, record_known_persons, RecordKnownPersons((person("a", "p2", T1),)))
    async with uow:
        assert await uow.known_persons.of_record("registry:a") == person("a", "p2", T1)
