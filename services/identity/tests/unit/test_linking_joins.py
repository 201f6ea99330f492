"""A record sure to be two persons links to the best and joins the other to it, as batch clustering does, unless a
reviewer's decision stands between them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from identity.domain.commands import LinkRecords, RejectCandidate
from identity.domain.source_records import Thresholds
from identity.service_layer.fake import FakeIdentityUnitOfWork
from identity.service_layer.handlers.linking import link_records
from identity.service_layer.handlers.reviews import reject_candidate
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.unit_of_work import execute

from .conftest import KESILIR, NIK, OFFICER, SITI, person_of, seen

STRICT = Thresholds(auto_link=0.99999, review=0.05)  # keeps the first two records apart
# The same girl twice, neither certain of the other; a third record is sure of each.
SITI_BY_NIK: dict[str, Any] = {"full_name": "Sitti Aminah", "sex": "female", "nik": NIK, "mother_name": "Sulastri",
                               "village_code": KESILIR}
SITI_WHOLE: dict[str, Any] = SITI | {"nik": NIK, "mother_name": "Sulastri", "birth_date": dt.date(2014, 3, 2)}


async def _apart(*, rejected: bool = False) -> FakeIdentityUnitOfWork:
    """Siti and Siti by her NIK as two persons (a reviewer declared them two children when `rejected`), in a
    service restarted with the default thresholds."""
    old = FakeIdentityUnitOfWork(thresholds=STRICT)
    for record in (seen("r-1", **SITI), seen("r-2", **SITI_BY_NIK)):
        await execute(old, link_records, LinkRecords((record,)))
    assert await person_of(old, "r-1") != await person_of(old, "r-2")
    if rejected:
        [review] = old.store.reviews.values()
        await execute(old, reject_candidate, RejectCandidate(OFFICER, review.review_id, await person_of(old, "r-1")))
    return FakeIdentityUnitOfWork.restarted(old.store)


async def test_a_record_sure_of_two_persons_joins_them() -> None:
    uow = await _apart()
    await execute(uow, link_records, LinkRecords((seen("r-3", **SITI_WHOLE),)))
    assert await person_of(uow, "r-1") == await person_of(uow, "r-2") == await person_of(uow, "r-3")
    links = [(e.source_record_id, e.person_id, e.reason.value) for e in uow.published
             if isinstance(e, RecordLinkedV1)]
    joined = await person_of(uow, "r-3")
    assert len(links) == 2  # the new record, and the record of the person that joined
    assert {(person, reason) for _, person, reason in links} == {(joined, "automatic_match")}
    assert {record for record, _, _ in links} - {"r-3"} <= {"r-1", "r-2"}


async def test_a_verified_non_link_keeps_the_two_persons_apart() -> None:
    uow = await _apart(rejected=True)
    await execute(uow, link_records, LinkRecords((seen("r-3", **SITI_WHOLE),)))
    assert await person_of(uow, "r-1") != await person_of(uow, "r-2")
    assert await person_of(uow, "r-3") in {await person_of(uow, "r-1"), await person_of(uow, "r-2")}
