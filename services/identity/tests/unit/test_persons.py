"""Merge and unmerge against the fake: records move and come back, both announced, matching respects the unmerge."""

from __future__ import annotations

import pytest

from identity.domain.commands import LinkRecords, MergePersons, RecordSeen, UnmergePerson
from identity.service_layer.fake import FakeIdentityUnitOfWork
from identity.service_layer.handlers.linking import link_records
from identity.service_layer.handlers.persons import merge_persons, unmerge_person
from simpul_contracts.events import PersonsMergedV1, PersonUnmergedV1, RecordLinkedV1
from simpul_platform.errors import DomainError, ErrorKind
from simpul_platform.unit_of_work import execute

from .conftest import BAMBANG, ELSEWHERE, OFFICER, SITI, person_of, seen


async def _link(uow: FakeIdentityUnitOfWork, *records: RecordSeen) -> None:
    await execute(uow, link_records, LinkRecords(records))


async def test_merge_then_unmerge_restores_the_links(uow: FakeIdentityUnitOfWork) -> None:
    await _link(uow, seen("r-1", **SITI), seen("r-2", **SITI), seen("r-3", **BAMBANG))
    siti, bambang = await person_of(uow, "r-1"), await person_of(uow, "r-3")
    merged = await execute(uow, merge_persons, MergePersons(OFFICER, bambang, siti))
    assert [str(k) for k in merged.moved] == ["simpul-registry:r-3"]
    assert await person_of(uow, "r-3") == siti
    with pytest.raises(DomainError) as again:
        await execute(uow, merge_persons, MergePersons(OFFICER, bambang, siti))
    assert (again.value.kind, again.value.field) == (ErrorKind.CONFLICT, "person_id")

    unmerged = await execute(uow, unmerge_person, UnmergePerson(OFFICER, bambang))
    assert (unmerged.merge_id, [await person_of(uow, r) for r in ("r-1", "r-2", "r-3")]) == (
        merged.merge_id, [siti, siti, bambang])
    await _link(uow, seen("r-3", **SITI | {"mother_name": "Sulastri"}))  # looks like Siti now: stays apart
    assert await person_of(uow, "r-3") == bambang

    [merge_event] = [e for e in uow.published if isinstance(e, PersonsMergedV1)]
    [unmerge_event] = [e for e in uow.published if isinstance(e, PersonUnmergedV1)]
    assert (merge_event.retired_person_id, merge_event.merged_by) == (bambang, "officer-jember")
    assert unmerge_event.moved_records == ["simpul-registry:r-3"]
    links = [(e.person_id, e.reason.value) for e in uow.published
             if isinstance(e, RecordLinkedV1) and e.source_record_id == "r-3"]
    assert links == [(bambang, "new_person"), (siti, "verified"), (bambang, "verified")]
    assert [a.action for a in uow.audited] == ["merge", "unmerge"]


async def test_refusals_name_the_field(uow: FakeIdentityUnitOfWork) -> None:
    await _link(uow, seen("r-1", **SITI), seen("r-3", **BAMBANG))
    siti, bambang = await person_of(uow, "r-1"), await person_of(uow, "r-3")
    cases = [(MergePersons(OFFICER, siti, siti), ErrorKind.INVALID, "into_person_id"),
             (MergePersons(OFFICER, "per_nobody", siti), ErrorKind.NOT_FOUND, "person_id"),
             (MergePersons(ELSEWHERE, bambang, siti), ErrorKind.NOT_FOUND, "person_id")]
    for command, kind, field in cases:
        with pytest.raises(DomainError) as refused:
            await execute(uow, merge_persons, command)
        assert (refused.value.kind, refused.value.field) == (kind, field)
    with pytest.raises(DomainError) as not_merged:
        await execute(uow, unmerge_person, UnmergePerson(OFFICER, bambang))
    assert (not_merged.value.kind, not_merged.value.reason) == (
        ErrorKind.CONFLICT, "this person is not merged into another")
    assert uow.published[-1].source_record_id == "r-3"  # nothing published by the refusals
    assert uow.audited == []
