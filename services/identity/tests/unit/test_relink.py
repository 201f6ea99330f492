"""Relink against the fake: links an old model made are corrected under the model in force and announced,
reviewers' decisions stay, and a second run changes and publishes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from identity.domain.commands import AcceptCandidate, LinkRecords, RecordSeen, RejectCandidate
from identity.domain.source_records import Thresholds
from identity.service_layer.fake import FakeIdentityUnitOfWork
from identity.service_layer.handlers.linking import link_records
from identity.service_layer.handlers.relink import RelinkReport, relink
from identity.service_layer.handlers.reviews import accept_candidate, reject_candidate
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.unit_of_work import execute

from .conftest import KESILIR, OFFICER, SITI, person_of, seen

# Issue 9's pair: two different boys, alike only in sex, village and birth date.
RAHMAT: dict[str, Any] = {"full_name": "Rahmat Hidayat", "sex": "male", "birth_date": dt.date(2013, 7, 7),
                          "birth_date_precision": "day", "village_code": KESILIR}
ZAINAL: dict[str, Any] = RAHMAT | {"full_name": "Zainal Abidin"}
DEWI: dict[str, Any] = {"full_name": "Dewi Lestari", "sex": "female", "birth_date": dt.date(2012, 1, 5),
                        "birth_date_precision": "day", "village_code": KESILIR}
PERMISSIVE = Thresholds(auto_link=0.05, review=0.05)  # an old model that links on demographics alone
STRICT = Thresholds(auto_link=0.99999, review=0.05)  # an old model that links nothing short of certainty


async def _linked(thresholds: Thresholds, *records: RecordSeen) -> FakeIdentityUnitOfWork:
    uow = FakeIdentityUnitOfWork(thresholds=thresholds)
    for record in records:
        await execute(uow, link_records, LinkRecords((record,)))
    return uow


async def _relink(old: FakeIdentityUnitOfWork) -> tuple[FakeIdentityUnitOfWork, RelinkReport]:
    """Relink what `old` holds under the shipped default model, as a restarted service would."""
    uow = FakeIdentityUnitOfWork.restarted(old.store)
    return uow, await relink(lambda: uow, batch=2)


def _links(uow: FakeIdentityUnitOfWork) -> dict[str, tuple[str, str]]:
    return {e.source_record_id: (e.person_id, e.reason.value) for e in uow.published if isinstance(e, RecordLinkedV1)}


async def test_a_link_on_demographics_alone_is_split_and_announced() -> None:
    old = await _linked(PERMISSIVE, seen("r-1", **RAHMAT), seen("r-2", **ZAINAL))
    assert await person_of(old, "r-1") == await person_of(old, "r-2")
    uow, report = await _relink(old)
    rahmat, zainal = await person_of(uow, "r-1"), await person_of(uow, "r-2")
    assert rahmat != zainal
    moved = "r-2" if rahmat == await person_of(old, "r-1") else "r-1"
    assert _links(uow) == {moved: (await person_of(uow, moved), "new_person")}
    assert (report.records, report.moved, report.settled) == (2, 1, True)


async def test_records_of_one_child_left_apart_are_joined() -> None:
    old = await _linked(STRICT, seen("r-1", **DEWI), seen("r-2", **DEWI))
    assert await person_of(old, "r-1") != await person_of(old, "r-2")
    uow, report = await _relink(old)
    assert await person_of(uow, "r-1") == await person_of(uow, "r-2")
    assert [reason for _, reason in _links(uow).values()] == ["automatic_match"]
    assert report.moved == 1


async def test_a_second_relink_changes_and_publishes_nothing() -> None:
    old = await _linked(PERMISSIVE, seen("r-1", **RAHMAT), seen("r-2", **ZAINAL), seen("r-3", **DEWI),
                        seen("r-4", **DEWI | {"full_name": "Dewi Lestary"}))
    uow, _ = await _relink(old)
    persons = {r: await person_of(uow, r) for r in ("r-1", "r-2", "r-3", "r-4")}
    published, commits = len(uow.published), uow.commits
    again = await relink(lambda: uow, batch=3)
    assert (again.moved, again.announced, again.passes) == (0, 0, 1)
    assert len(uow.published) == published
    assert uow.commits == commits + 3  # the listing and two batches: batched transactions
    assert {r: await person_of(uow, r) for r in persons} == persons


async def test_a_verified_link_and_a_verified_non_link_stay() -> None:
    old = await _linked(STRICT, seen("r-1", **RAHMAT), seen("r-2", **ZAINAL), seen("r-3", **SITI),
                        seen("r-4", **SITI))
    reviews = {r.key.source_record_id: r for r in old.store.reviews.values()}
    await execute(old, accept_candidate, AcceptCandidate(OFFICER, reviews["r-2"].review_id,
                                                         await person_of(old, "r-1")))
    await execute(old, reject_candidate, RejectCandidate(OFFICER, reviews["r-4"].review_id,
                                                         await person_of(old, "r-3")))
    uow, report = await _relink(old)
    assert await person_of(uow, "r-1") == await person_of(uow, "r-2")  # the default model would split them
    assert await person_of(uow, "r-3") != await person_of(uow, "r-4")  # ...and join these
    assert _links(uow) == {}
    assert report.moved == 0


async def test_two_children_each_well_matched_but_joined_are_split_in_two() -> None:
    old = await _linked(PERMISSIVE, seen("r-1", **RAHMAT), seen("r-2", **RAHMAT), seen("r-3", **ZAINAL),
                        seen("r-4", **ZAINAL))
    assert len({await person_of(old, r) for r in ("r-1", "r-2", "r-3", "r-4")}) == 1
    uow, _ = await _relink(old)
    assert await person_of(uow, "r-1") == await person_of(uow, "r-2")
    assert await person_of(uow, "r-3") == await person_of(uow, "r-4")
    assert await person_of(uow, "r-1") != await person_of(uow, "r-3")
