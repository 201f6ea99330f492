"""One suite, three stores: identity's fake unit of work and the SQL one on PostgreSQL and on SQLite agree, on
every repository and on the link lock's promise that the matcher sees what was committed and nothing rolled back;
on SQL, the matching index of every replica forgets superseded, rolled-back and erased details."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from identity.adapters.record_index import IndexedMatcher
from identity.bootstrap import MIGRATIONS
from identity.domain.commands import EraseRecords, LinkRecords, RecordErased, RecordSeen
from identity.domain.decisions import Decision, DecisionKind
from identity.domain.model import MatchModel
from identity.domain.person import Merge, Person
from identity.domain.review import Review
from identity.domain.source_records import Candidate, Contribution, Details, RecordKey, SourceRecord, Thresholds
from identity.service_layer.fake import FakeIdentityUnitOfWork
from identity.service_layer.handlers.erasure import erase_records
from identity.service_layer.handlers.linking import link_records
from identity.service_layer.unit_of_work import IdentityUnitOfWork, SqlIdentityUnitOfWork
from simpul_platform.database import Database
from simpul_platform.field_encryption import development_keyring
from simpul_platform.migrations import upgrade
from simpul_platform.unit_of_work import execute

KESILIR = "35.09.11.2007"
AT = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
SITI = Details("Siti Aminah", "female", KESILIR, dt.date(2014, 3, 2), "day", "3509114203140001", None, "Sulastri")
BAMBANG = Details("Bambang Sutrisno", "male", KESILIR, dt.date(2010, 5, 5), "day")
# Siti's details as the registry corrected them: another NIK (her own, a day later) and KK.
SITI_CORRECTED = Details("Siti Aminah", "female", KESILIR, dt.date(2014, 3, 3), "day", "3509114303140001",
                         "3509110101090001", "Sulastri")
NewUow = Callable[[], IdentityUnitOfWork]
Replica = tuple[IndexedMatcher, NewUow]
MODEL = MatchModel.default()
THRESHOLDS = Thresholds(MODEL.auto_link, MODEL.review)
SQL_STORES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=["fake", *SQL_STORES])
async def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NewUow]:
    """A factory of units of work over one fresh store: the fake, or the SQL one on SQLite or PostgreSQL."""
    if request.param == "fake":
        fake = FakeIdentityUnitOfWork(MODEL, THRESHOLDS)
        yield lambda: fake
        return
    async with _sql_database(request, tmp_path) as database:
        yield _replica(database)[1]


@pytest.fixture(params=SQL_STORES)
async def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], Replica]]:
    """Replicas over one fresh SQL store: each call a new process's matcher and a factory of its units of work."""
    async with _sql_database(request, tmp_path) as database:
        yield lambda: _replica(database)


@contextlib.asynccontextmanager
async def _sql_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    url = (f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}" if request.param == "sqlite"
           else request.getfixturevalue("make_database")("identity"))
    await upgrade(url, MIGRATIONS)
    database = Database(url, keyring=development_keyring())
    try:
        yield database
    finally:
        await database.dispose()


def _replica(database: Database) -> Replica:
    matcher = IndexedMatcher(database, MODEL, THRESHOLDS)
    return matcher, lambda: SqlIdentityUnitOfWork(database, matcher, b"contract-suite-nik-digest-key-of-32-bytes")


def key(record_id: str) -> RecordKey:
    return RecordKey("simpul-registry", record_id)


def record(record_id: str, person_id: str, details: Details = SITI, *, verified: bool = False) -> SourceRecord:
    return SourceRecord(key(record_id), person_id, details.village_code, verified, details, AT)


async def stored(new_uow: NewUow, person_id: str, *records: SourceRecord) -> None:
    """A person and its records, committed."""
    async with new_uow() as uow:
        await uow.persons.add(Person(person_id, AT))
        for one in records:
            await uow.records.save(one)
        await uow.commit()


def _instant(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive UTC datetimes; compare instants."""
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


async def test_records_and_persons_come_back_as_saved(new_uow: NewUow) -> None:
    await stored(new_uow, "per_b", record("r-2", "per_b"), record("r-1", "per_b", BAMBANG, verified=True))
    async with new_uow() as uow:
        person = await uow.persons.get("per_b")
        one = await uow.records.get(key("r-1"))
        persons = await uow.records.persons_of([key("r-1"), key("r-9")])
        details = await uow.records.all_details()
        missing = await uow.persons.get("per_nobody")
    assert person is not None
    assert person.retired_into is None
    assert person.keys == [key("r-1"), key("r-2")]  # ordered by key
    assert one is not None
    assert (one.person_id, one.verified, one.details, _instant(one.linked_at)) == ("per_b", True, BAMBANG, AT)
    assert persons == {"per_b"}
    assert sorted(r.record_id for r in details) == ["simpul-registry:r-1", "simpul-registry:r-2"]
    assert missing is None


async def test_a_saved_person_keeps_where_its_records_are_and_whether_it_is_retired(new_uow: NewUow) -> None:
    await stored(new_uow, "per_a", record("r-1", "per_a"))
    await stored(new_uow, "per_b", record("r-2", "per_b"))
    async with new_uow() as uow:
        retired, survivor = await uow.persons.get("per_b"), await uow.persons.get("per_a")
        assert retired is not None
        assert survivor is not None
        retired.merge_into(survivor, merge_id="mrg_1", by="officer", at=AT)
        await uow.persons.save(retired)
        await uow.persons.save(survivor)
        await uow.commit()
    async with new_uow() as uow:
        retired, survivor = await uow.persons.get("per_b"), await uow.persons.get("per_a")
    assert retired is not None
    assert survivor is not None
    assert (retired.retired_into, retired.keys) == ("per_a", [])
    assert [(r.key, r.person_id, r.verified) for r in survivor.records] == [
        (key("r-1"), "per_a", True), (key("r-2"), "per_a", True)]


async def test_reviews_round_trip_and_are_scoped(new_uow: NewUow) -> None:
    candidate = Candidate("per_a", 0.41, False, (Contribution("name", "similar", 3.5),))
    review = Review.request("rev_1", key("r-2"), "per_b", village_code=KESILIR, candidates=[candidate], at=AT)
    async with new_uow() as uow:
        await uow.reviews.add(review)
        await uow.commit()
    async with new_uow() as uow:
        back = await uow.reviews.get("rev_1")
        assert back is not None
        assert [r.review_id for r in await uow.reviews.open_for(key("r-2"))] == ["rev_1"]
        assert [r.review_id for r in await uow.reviews.in_scope(("35.09",), status="open", after=None, limit=5)] == [
            "rev_1"]
        assert await uow.reviews.in_scope(("35.10",), status=None, after=None, limit=5) == []
        back.accept("per_a", "officer", AT)
        await uow.reviews.save(back)
        await uow.commit()
    async with new_uow() as uow:
        decided = await uow.reviews.get("rev_1")
        still_open = await uow.reviews.open_for(key("r-2"))
    assert decided is not None
    assert (decided.status, decided.candidates[0].decision, decided.resolved_by) == ("accepted", "accepted", "officer")
    assert decided.candidates[0].contributions == candidate.contributions
    assert (decided.district_code, _instant(decided.requested_at)) == ("35.09", AT)
    assert still_open == []


async def test_decisions_keep_verified_non_links_both_ways(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        decision = Decision(DecisionKind.VERIFIED_NON_LINK, "per_a", "officer", "district_officer", AT, "why",
                            record=key("r-1"))
        first = await uow.decisions.add(decision)
        second = await uow.decisions.add(decision)
        await uow.decisions.add_non_links([key("r-1")], [key("r-2"), key("r-3"), key("r-1")], first)
        await uow.decisions.add_non_links([key("r-3")], [key("r-1")], second)  # already known: kept once
        await uow.commit()
    async with new_uow() as uow:
        assert second > first
        assert await uow.decisions.non_linked(key("r-1")) == {key("r-2"), key("r-3")}
        assert await uow.decisions.non_linked(key("r-2")) == {key("r-1")}
        assert await uow.decisions.separated([key("r-2")], [key("r-1"), key("r-9")])
        assert not await uow.decisions.separated([key("r-2")], [key("r-3")])


async def test_a_merge_is_in_force_until_undone(new_uow: NewUow) -> None:
    merge = Merge("mrg_1", "per_a", "per_b", (key("r-2"),), (key("r-1"), key("r-2")), "officer", AT)
    async with new_uow() as uow:
        await uow.merges.add(merge)
        await uow.commit()
    async with new_uow() as uow:
        found = await uow.merges.in_force_retiring("per_b")
        assert found is not None
        assert (found.moved, found.verified_by_merge, found.merged_by) == (merge.moved, merge.verified_by_merge,
                                                                           "officer")
        assert await uow.merges.in_force_retiring("per_a") is None
        found.undo("officer", AT)
        await uow.merges.save(found)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.merges.in_force_retiring("per_b") is None


async def test_what_is_not_committed_leaves_nothing(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        await uow.persons.add(Person("per_a", AT))
        await uow.records.save(record("r-1", "per_a"))
        uow.publish()
    async with new_uow() as uow:
        assert await uow.records.get(key("r-1")) is None
        assert await uow.persons.get("per_a") is None


async def test_the_matcher_sees_committed_records_and_drops_rolled_back_ones(new_uow: NewUow) -> None:
    seen = RecordSeen(key("r-1"), SITI)
    async with new_uow() as uow:  # linked, then rolled back: its details are no candidate
        await link_records(LinkRecords((seen,)), uow)
    async with new_uow() as uow:
        assert await uow.matcher.candidates(key("r-2"), SITI) == []
    await execute(new_uow(), link_records, LinkRecords((seen, RecordSeen(key("r-3"), BAMBANG))))
    async with new_uow() as uow:
        candidates = await uow.matcher.candidates(key("r-2"), SITI)
        person = await uow.records.get(key("r-1"))
        itself = await uow.matcher.candidates(key("r-1"), SITI)
    assert person is not None
    assert [c.person_id for c in candidates] == [person.person_id]
    assert candidates[0].score >= uow.matcher.thresholds.auto_link
    assert itself == []  # never a candidate through itself


async def test_record_keys_and_record_matches_name_each_record_and_its_person(new_uow: NewUow) -> None:
    await stored(new_uow, "per_s", record("r-2", "per_s"), record("r-1", "per_s"))
    await stored(new_uow, "per_b", record("r-3", "per_b", BAMBANG))
    async with new_uow() as uow:
        keys = await uow.records.keys()
        matches = await uow.matcher.matches(key("r-1"), SITI)
    assert keys == [key("r-1"), key("r-2"), key("r-3")]
    assert [(m.key, m.person_id, m.vetoed) for m in matches] == [(key("r-2"), "per_s", False)]
    assert matches[0].score >= uow.matcher.thresholds.auto_link


def held_niks(matcher: IndexedMatcher) -> set[str]:
    """The NIKs any row of the replica's index holds (a blanked row holds none)."""
    assert matcher._index is not None
    table = matcher._index._table
    return {str(nik) for nik in table.nik[: table.size].tolist() if nik}


async def test_a_records_superseded_details_leave_the_index_of_every_replica(replicas: Callable[[], Replica]) -> None:
    (matcher, new_uow), (other, other_uow) = replicas(), replicas()
    await stored(new_uow, "per_s", record("r-1", "per_s"))
    async with other_uow() as uow:
        await uow.matcher.candidates(key("r-2"), SITI)
    assert held_niks(other) == {SITI.nik}
    async with new_uow() as uow:  # corrected, then rolled back: the stored details stay, the correction goes
        await uow.records.get(key("r-1"))
        await uow.records.save(record("r-1", "per_s", SITI_CORRECTED))
    assert held_niks(matcher) == {SITI.nik}
    async with new_uow() as uow:
        assert [c.person_id for c in await uow.matcher.candidates(key("r-2"), SITI)] == ["per_s"]
        await uow.records.get(key("r-1"))
        await uow.records.save(record("r-1", "per_s", SITI_CORRECTED))
        await uow.commit()
    assert held_niks(matcher) == {SITI_CORRECTED.nik}
    assert list(matcher._labels.values()) == [key("r-1")]  # one version held: the current one
    async with new_uow() as uow:
        assert [c.person_id for c in await uow.matcher.candidates(key("r-2"), SITI_CORRECTED)] == ["per_s"]
    async with other_uow() as uow:  # the other replica's next use reads the correction
        assert [c.person_id for c in await uow.matcher.candidates(key("r-2"), SITI_CORRECTED)] == ["per_s"]
    assert held_niks(other) == {SITI_CORRECTED.nik}
    assert list(other._labels.values()) == [key("r-1")]


async def test_an_erasure_leaves_the_index_of_every_replica(replicas: Callable[[], Replica]) -> None:
    (erasing, erasing_uow), (other, other_uow) = replicas(), replicas()
    await stored(erasing_uow, "per_s", record("r-1", "per_s"))
    await stored(other_uow, "per_c", record("r-2", "per_c", SITI_CORRECTED))  # this replica reads r-1 first
    assert held_niks(erasing) == {SITI.nik}
    assert held_niks(other) == {SITI.nik, SITI_CORRECTED.nik}
    erasure = EraseRecords((RecordErased(key("r-1"), KESILIR, "data_subject_request", AT),))
    await execute(erasing_uow(), erase_records, erasure)
    assert held_niks(erasing) == set()  # at once here (this replica never read r-2)
    assert SITI.nik in held_niks(other)  # until its next use
    async with other_uow() as uow:  # which reads the erasure
        await uow.matcher.candidates(key("r-3"), SITI)
    assert held_niks(other) == {SITI_CORRECTED.nik}
    assert key("r-1") not in other._labels.values()
