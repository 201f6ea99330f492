"""The registry erased a child (ChildErasedV1): identity drops the record's details, keeps its person, refuses
late details, closes its reviews and audits it."""

from __future__ import annotations

import dataclasses
import datetime as dt

from identity.domain.commands import EraseRecords, LinkRecords, RecordErased
from identity.service_layer.fake import FakeIdentityUnitOfWork
from identity.service_layer.handlers.erasure import erase_records
from identity.service_layer.handlers.linking import link_records
from simpul_platform.unit_of_work import execute

from .conftest import KESILIR, NIK, SITI, SITI_UNSURE, Link, key, person_of, seen

ERASED_AT = dt.datetime(2026, 12, 1, 22, 0, tzinfo=dt.UTC)
EARLIER = ERASED_AT - dt.timedelta(hours=1)


def _erase(record_id: str) -> EraseRecords:
    return EraseRecords((RecordErased(key(record_id), KESILIR, "data_subject_request", ERASED_AT),))


async def test_an_erased_record_keeps_its_person_and_nothing_identifying(uow: FakeIdentityUnitOfWork,
                                                                        link: Link) -> None:
    await link(dataclasses.replace(seen("r-1", **SITI, nik=NIK), recorded_at=EARLIER))
    person = await person_of(uow, "r-1")
    await execute(uow, erase_records, _erase("r-1"))
    record, version = uow.store.records[key("r-1")]
    assert (record.details, record.erased_at, version) == (None, ERASED_AT, "")
    assert await person_of(uow, "r-1") == person  # the link stays: counts of persons do not move
    assert "Siti" not in repr(uow.store)
    [audited] = [a for a in uow.audited if a.action == "erase"]
    assert audited.resource_ids == (str(key("r-1")),)


async def test_details_arriving_after_the_erasure_are_refused(uow: FakeIdentityUnitOfWork, link: Link) -> None:
    await execute(uow, erase_records, _erase("r-9"))  # the erasure overtook the record's details (two topics)
    await link(dataclasses.replace(seen("r-9", **SITI, nik=NIK), recorded_at=EARLIER))
    await link(seen("r-9", **SITI))  # even without a recorded time
    record, _ = uow.store.records[key("r-9")]
    assert record.details is None
    assert record.erased_at == ERASED_AT


async def test_an_erased_record_is_no_candidate_and_its_reviews_close(asking_uow: FakeIdentityUnitOfWork) -> None:
    uow = asking_uow
    await execute(uow, link_records, LinkRecords((seen("r-1", **SITI), seen("r-2", **SITI_UNSURE))))
    assert [r.status for r in uow.store.reviews.values()] == ["open"]
    await execute(uow, erase_records, _erase("r-2"))
    assert [r.status for r in uow.store.reviews.values()] == ["superseded"]
    await execute(uow, link_records, LinkRecords((seen("r-3", **SITI_UNSURE),)))
    asked = {c.person_id for r in uow.store.reviews.values() if r.status == "open" for c in r.candidates}
    assert await person_of(uow, "r-2") not in asked

