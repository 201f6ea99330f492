"""Linking against the fake: a record links once, one child's records are one person, decisions are respected."""

from __future__ import annotations

from identity.domain.commands import LinkRecords, RecordSeen
from identity.service_layer.fake import FakeIdentityUnitOfWork
from identity.service_layer.handlers.linking import link_records
from simpul_contracts.events import RecordLinkedV1, ReviewRequestedV1
from simpul_platform.unit_of_work import execute

from .conftest import BAMBANG, NIK, SITI, SITI_UNSURE, Link, person_of, seen


async def _link(uow: FakeIdentityUnitOfWork, *records: RecordSeen) -> None:
    await execute(uow, link_records, LinkRecords(records))


def _links(uow: FakeIdentityUnitOfWork) -> list[tuple[str, str]]:
    return [(e.source_record_id, e.reason.value) for e in uow.published if isinstance(e, RecordLinkedV1)]


async def test_a_record_arriving_again_unchanged_links_once(uow: FakeIdentityUnitOfWork, link: Link) -> None:
    await link(seen("r-1", **SITI, nik=NIK))
    await link(seen("r-1", **SITI, nik=NIK))
    assert _links(uow) == [("r-1", "new_person")]
    assert len(uow.store.records) == 1


async def test_records_of_one_child_are_one_person_and_others_are_not(uow: FakeIdentityUnitOfWork,
                                                                      link: Link) -> None:
    await link(seen("r-1", **SITI, nik=NIK, mother_name="Sulastri"),
               seen("survey-7", **SITI | {"full_name": "Sitti Aminah", "birth_date": None,
                                         "birth_date_precision": None}, nik=NIK),
               seen("r-2", **BAMBANG))
    assert await person_of(uow, "survey-7") == await person_of(uow, "r-1") != await person_of(uow, "r-2")
    assert _links(uow) == [("r-1", "new_person"), ("survey-7", "automatic_match"), ("r-2", "new_person")]
    assert uow.commits == 1  # one run, one transaction


async def test_an_unsure_match_is_not_a_link_but_a_review(asking_uow: FakeIdentityUnitOfWork) -> None:
    uow = asking_uow
    await _link(uow, seen("r-1", **SITI))
    await _link(uow, seen("r-2", **SITI_UNSURE))
    assert await person_of(uow, "r-2") != await person_of(uow, "r-1")
    [requested] = [e for e in uow.published if isinstance(e, ReviewRequestedV1)]
    assert (requested.source_record_id, requested.candidate_person_ids) == ("r-2", [await person_of(uow, "r-1")])
    assert [r.status for r in uow.store.reviews.values()] == ["open"]


async def test_the_same_unsure_record_again_asks_nothing_new(asking_uow: FakeIdentityUnitOfWork) -> None:
    uow = asking_uow
    await _link(uow, seen("r-1", **SITI), seen("r-2", **SITI_UNSURE))
    await _link(uow, seen("r-2", **SITI_UNSURE | {"kk_number": "3509110101120003"}))
    assert sum(isinstance(e, ReviewRequestedV1) for e in uow.published) == 1


async def test_a_failed_run_leaves_nothing_behind(uow: FakeIdentityUnitOfWork, link: Link) -> None:
    await link(seen("r-1", **SITI))
    async with uow:
        await link_records(LinkRecords((seen("r-2", **SITI),)), uow)
        # no commit: the consumer's transaction failed
    await link(seen("r-3", **SITI))
    assert set(uow.store.records) == {seen("r-1", **SITI).key, seen("r-3", **SITI).key}
    assert await person_of(uow, "r-3") == await person_of(uow, "r-1")
