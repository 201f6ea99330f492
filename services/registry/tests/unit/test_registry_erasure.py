"""Erasing a child (issue 13 point 2) against the in-memory unit of work: what goes, what stays, who may."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from registry.domain.case_lifecycle import Classification
from registry.domain.commands import (
    Classify,
    EraseChild,
    ReadChild,
    RecordConsent,
    RecordVisit,
    RegisterChild,
    UpdateChild,
)
from registry.domain.consent import ConsentDecision, ConsentPurpose
from registry.domain.details import ChildChanges, ChildDetails, Guardian, Work
from registry.domain.erasure import ERASED_TEXT, ChildErased, ErasureReason
from registry.domain.model import DatePrecision, Sex
from registry.domain.visits import Hazard, MonitoringVisit, Schooling, SchoolStatus, WorkSector
from registry.service_layer.fake import FakeRegistryStore
from registry.service_layer.handlers import cases, children, erasure
from registry.service_layer.idempotency import create_once
from simpul_contracts.events import ChildErasedV1, ChildIdentityRecordedV1, ChildReferralDetailsRecordedV1
from simpul_platform.auth import Principal, Role
from simpul_platform.errors import ErrorKind
from simpul_platform.idempotency import Answer, IdempotencyKey
from simpul_platform.unit_of_work import execute

KESILIR = "35.09.11.2007"
CADRE = Principal("kader", Role.CADRE, (KESILIR,))
OFFICER = Principal("officer", Role.DISTRICT_OFFICER, ("35.09",))
AT = dt.datetime(2026, 12, 1, 22, 0, tzinfo=dt.UTC)
NIK = "3509115004140001"
RARA = ChildDetails(full_name="Rara Kinanthi Wulandari", sex=Sex.FEMALE, village_code=KESILIR,
                    aliases=("Kinan",), birth_date=dt.date(2014, 4, 10), mother_name="Sumarni Wulandari",
                    nik=NIK, guardians=(Guardian("Sumarni Wulandari", "mother", "+6281234567890"),),
                    work=Work((WorkSector.TOBACCO,), "memetik daun di kebun Pak Harjo", 20, ()))



async def _registered(store: FakeRegistryStore) -> str:
    command = RegisterChild(CADRE, RARA, classify=Classify(Classification.CHILD_LABOURER, "seen at Pak Harjo's"))
    view = await execute(store.unit_of_work(), children.register_child, command)
    visit = MonitoringVisit("vis_1", dt.date(2026, 11, 2), "kader", True, Schooling(SchoolStatus.DROPPED_OUT),
                            frozenset({WorkSector.TOBACCO}), "memetik daun", 20, frozenset({Hazard.OTHER}),
                            "Rara bilang ibunya sakit")
    await execute(store.unit_of_work(), cases.record_visit, RecordVisit(CADRE, view.child_id, visit))
    return view.child_id


def _erase(child_id: str, by: Principal = OFFICER, reason: str = "permintaan wali no. 12/2026") -> EraseChild:
    return EraseChild(by, child_id, reason, ErasureReason.DATA_SUBJECT_REQUEST, AT)


async def test_an_erasure_blanks_what_identifies_and_keeps_what_counts(store: FakeRegistryStore) -> None:
    child_id = await _registered(store)
    done = await execute(store.unit_of_work(), erasure.erase_child, _erase(child_id))
    assert done.erased_at == AT
    record, case = store.tables.children[child_id], store.tables.cases[child_id]
    child = record.child
    assert (child.full_name, child.mother_name, record.aliases, record.nik, record.nik_index,
            record.kk_number, record.guardians) == ("", None, [], None, None, None, [])
    assert record.work is not None
    assert record.work.tasks == ""
    assert (child.birth_date, child.birth_date_precision) == (dt.date(2014, 1, 1), DatePrecision.YEAR)
    assert (child.sex, child.village_code, case.classification) == (Sex.FEMALE, KESILIR,
                                                                    Classification.CHILD_LABOURER)
    assert {change.reason for change in case.status_history + case.classification_history} == {ERASED_TEXT}
    assert (case.visits[0].notes, case.visits[0].work_activities) == (ERASED_TEXT, ERASED_TEXT)
    assert record.erased_at == AT
    assert "Rara" not in repr(store.tables)


async def test_an_erasure_publishes_a_code_tombstones_the_restricted_topics_and_audits_the_words(
        store: FakeRegistryStore) -> None:
    child_id = await _registered(store)
    before = len(store.published)
    await execute(store.unit_of_work(), erasure.erase_child, _erase(child_id))
    [event] = store.published[before:]
    assert isinstance(event, ChildErasedV1)
    assert (event.child_id, event.reason, event.erased_at, event.birth_year, event.village_code) == (
        child_id, "data_subject_request", AT, 2014, KESILIR)
    assert "permintaan" not in event.model_dump_json()
    assert [(t.topic, t.key) for t in store.tombstoned] == [
        (ChildIdentityRecordedV1.topic, child_id), (ChildReferralDetailsRecordedV1.topic, child_id)]
    [audited] = [a for a in store.audited if a.action == "erase"]
    assert (audited.subject, audited.resource_ids, audited.reason) == ("officer", (child_id,),
                                                                       "permintaan wali no. 12/2026")


async def test_an_erasure_forgets_the_stored_idempotency_answers_that_show_the_child(
        store: FakeRegistryStore) -> None:
    key = IdempotencyKey("kader", "k-1", "f" * 64)
    command = RegisterChild(CADRE, RARA)
    outcome = await create_once(
        store.unit_of_work, children.register_child, command, key=key,
        answer=lambda view: Answer(201, f'{{"child_id": "{view.child_id}", "nik": "{NIK}"}}'.encode()),
        on_replay=lambda answer: _nothing(), now=AT, ttl=dt.timedelta(hours=24))
    assert store.tables.keys
    child_id = outcome.answer.body.decode().split('"')[3]
    done = await execute(store.unit_of_work(), erasure.erase_child, _erase(child_id))
    assert done.answers_forgotten == 1
    assert store.tables.keys == {}


async def _nothing() -> None:
    return None


@pytest.mark.parametrize("by", [CADRE, Principal("svc", Role.SERVICE, ("35.09",))], ids=["cadre", "service"])
async def test_only_a_district_officer_may_erase(store: FakeRegistryStore, by: Principal) -> None:
    child_id = await _registered(store)
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the kind and field are what matters
        await execute(store.unit_of_work(), erasure.erase_child, _erase(child_id, by=by))
    assert (getattr(refused.value, "kind", None), getattr(refused.value, "field", None)) == (
        ErrorKind.FORBIDDEN, "role")
    assert store.tables.children[child_id].erased_at is None


async def test_an_erasure_needs_a_reason(store: FakeRegistryStore) -> None:
    child_id = await _registered(store)
    with pytest.raises(Exception, match="reason"):
        await execute(store.unit_of_work(), erasure.erase_child, _erase(child_id, reason="  "))


async def test_an_erased_child_takes_no_change_and_no_second_erasure(store: FakeRegistryStore) -> None:
    child_id = await _registered(store)
    await execute(store.unit_of_work(), erasure.erase_child, _erase(child_id))
    version = store.tables.children[child_id].version
    attempts = [
        (children.update_child, UpdateChild(CADRE, child_id, version,
                                            ChildChanges(frozenset({"full_name"}), full_name="Rara K"))),
        (cases.record_consent, RecordConsent(CADRE, child_id, ConsentPurpose.REFERRAL, ConsentDecision.GIVEN,
                                             dt.date(2026, 12, 1))),
        (erasure.erase_child, _erase(child_id)),
    ]
    for handler, command in attempts:
        with pytest.raises(ChildErased) as refused:
            await execute(store.unit_of_work(), handler, command)  # type: ignore[arg-type]
        assert (refused.value.kind, refused.value.field) == (ErrorKind.CONFLICT, "child_id")
    view = await execute(store.unit_of_work(), children.read_child, ReadChild(OFFICER, child_id, "read", None))
    assert view.record.child.full_name == ""  # still readable: the pseudonymous state, for the case file
    assert dataclasses.replace(view.record.child).sex is Sex.FEMALE
