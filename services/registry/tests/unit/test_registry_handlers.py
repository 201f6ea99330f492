"""The registry's use cases against the in-memory unit of work: fast, no Kafka, no PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from registry.domain.case_lifecycle import CaseStatus, Classification
from registry.domain.commands import (
    AttachPersons,
    ChangeStatus,
    Classify,
    ClassifyChild,
    PersonLink,
    ReadChild,
    ReadConsent,
    RecordConsent,
    RegisterChild,
    SearchChildren,
    UpdateChild,
)
from registry.domain.consent import ConsentDecision, ConsentPurpose
from registry.domain.details import ChildChanges, ChildDetails, Guardian, InvalidDetails, School
from registry.domain.errors import (
    CaseRequired,
    ChildNotFound,
    DuplicateSource,
    OutsideScope,
    StaleVersion,
    UnknownVillage,
)
from registry.domain.model import Sex
from registry.domain.record import ChildSearch
from registry.domain.survey import ImportSurvey, RefusedRow, RowError, SurveyEntry, SurveyFile
from registry.domain.visits import SchoolStatus
from registry.entrypoints import idempotency_purge
from registry.service_layer.fake import FakeRegistryStore
from registry.service_layer.handlers import cases, children, survey
from registry.service_layer.idempotency import create_once, then_read
from simpul_contracts.events import (
    CaseStatusChangedV1,
    ChildClassifiedV1,
    ChildIdentityRecordedV1,
    ChildRegisteredV1,
    ChildUpdatedV1,
    ConsentChangedV1,
)
from simpul_platform.auth import Principal, Role
from simpul_platform.errors import DomainError, ErrorKind
from simpul_platform.idempotency import Answer, IdempotencyKey, KeyReused
from simpul_platform.unit_of_work import execute

KESILIR = "35.09.11.2007"
SUKORENO = "35.09.27.2002"
CADRE = Principal("kader", Role.CADRE, (KESILIR,))
OFFICER = Principal("officer", Role.DISTRICT_OFFICER, ("35.09",))
SITI = ChildDetails(full_name="Siti Aminah", sex=Sex.FEMALE, village_code=KESILIR, aliases=("Ninik",),
                    guardians=(Guardian("Bu Sulastri", "mother"),), school=School(SchoolStatus.DROPPED_OUT, 5))



async def _register(store: FakeRegistryStore, details: ChildDetails = SITI, by: Principal = CADRE,
                    **options: object) -> children.ChildView:
    return await execute(store.unit_of_work(), children.register_child, RegisterChild(by, details, **options))


async def test_a_registration_stores_the_child_publishes_its_events_and_audits_the_access(
        store: FakeRegistryStore) -> None:
    view = await _register(store, classify=Classify(Classification.CHILD_LABOURER, "baseline survey"),
                           reason="registration")
    assert view.case is not None
    assert [type(e) for e in store.published] == [ChildIdentityRecordedV1, ChildRegisteredV1, ChildClassifiedV1,
                                                  CaseStatusChangedV1]
    assert [(a.action, a.resource_ids, a.reason) for a in store.audited] == [
        ("register", (view.child_id,), "registration")]
    read = await execute(store.unit_of_work(), children.read_child, ReadChild(CADRE, view.child_id))
    assert (read.record.guardians, read.record.aliases) == ([Guardian("Bu Sulastri", "mother")], ["Ninik"])


@pytest.mark.parametrize(("village", "error"), [(SUKORENO, OutsideScope), ("35.09.11.2999", UnknownVillage)])
async def test_a_refused_registration_leaves_nothing_behind(store: FakeRegistryStore, village: str,
                                                            error: type[Exception]) -> None:
    cadre = Principal("kader", Role.CADRE, ("35.09",)) if error is UnknownVillage else CADRE
    with pytest.raises(error):
        await _register(store, ChildDetails(full_name="Putri", sex=Sex.FEMALE, village_code=village), by=cadre)
    assert (store.tables.children, store.published, store.audited) == ({}, [], [])


async def test_a_second_child_from_one_source_record_is_refused(store: FakeRegistryStore) -> None:
    await _register(store, source_record_id="KSL-1")
    with pytest.raises(DuplicateSource):
        await _register(store, source_record_id="KSL-1")


async def test_an_update_needs_the_version_read_and_publishes_only_what_changed(store: FakeRegistryStore) -> None:
    child_id = (await _register(store)).child_id
    published = len(store.published)
    rename = UpdateChild(CADRE, child_id, 1, ChildChanges(frozenset({"full_name"}), full_name="Siti"))
    record = await execute(store.unit_of_work(), children.update_child, rename)
    assert record.version == 2
    assert [type(e) for e in store.published[published:]] == [ChildIdentityRecordedV1]  # no pseudonymous change
    with pytest.raises(StaleVersion):
        await execute(store.unit_of_work(), children.update_child, rename)
    outside = UpdateChild(Principal("other", Role.CADRE, (SUKORENO,)), child_id, 2, rename.changes)
    with pytest.raises(ChildNotFound):
        await execute(store.unit_of_work(), children.update_child, outside)


async def test_a_search_audits_its_page_once_and_loads_the_cases_with_it(store: FakeRegistryStore) -> None:
    ids = sorted([(await _register(store, classify=Classify(Classification.AT_RISK, "survey"))).child_id
                  for _ in range(3)])
    store.audited.clear()
    page = await execute(store.unit_of_work(), children.search_children,
                         SearchChildren(OFFICER, ChildSearch(OFFICER.scope, limit=2), "monthly review"))
    assert [v.child_id for v in page.items] == ids[:2]
    assert page.next_cursor == ids[1]
    assert all(v.case is not None for v in page.items)
    assert [(a.action, a.resource_ids) for a in store.audited] == [("search", tuple(ids[:2]))]


async def test_person_links_of_a_batch_are_applied_in_one_command(store: FakeRegistryStore) -> None:
    view = await _register(store, source_record_id="KSL-1")
    source = view.record.child.source_system
    links = AttachPersons((PersonLink(source, "KSL-1", "per_1"), PersonLink("elsewhere", "X", "per_2"),
                           PersonLink(source, "KSL-1", "per_1")))
    published = len(store.published)
    await execute(store.unit_of_work(), children.attach_persons, links)
    updates = store.published[published:]
    assert [(type(e), e.person_id) for e in updates] == [(ChildUpdatedV1, "per_1")]  # type: ignore[attr-defined]
    stored = store.tables.children[view.child_id]
    assert (stored.child.person_id, stored.version) == ("per_1", 1)  # a link is no edit: the ETag stays


async def test_case_changes_need_a_case_and_move_the_records_version(store: FakeRegistryStore) -> None:
    child_id = (await _register(store)).child_id
    assess = ChangeStatus(CADRE, child_id, CaseStatus.ASSESSED, "home visit")
    with pytest.raises(CaseRequired):
        await execute(store.unit_of_work(), cases.change_status, assess)
    classify = ClassifyChild(CADRE, child_id, Classify(Classification.CHILD_LABOURER, "seen in the field"))
    assert (await execute(store.unit_of_work(), cases.classify_child, classify)).version == 2
    changed = await execute(store.unit_of_work(), cases.change_status, assess)
    assert (changed.case.status, changed.version) == (CaseStatus.ASSESSED, 3)
    consent = RecordConsent(CADRE, child_id, ConsentPurpose.REFERRAL, ConsentDecision.GIVEN, dt.date(2026, 11, 2))
    await execute(store.unit_of_work(), cases.record_consent, consent)
    assert isinstance(store.published[-1], ConsentChangedV1)
    assert store.tables.children[child_id].version == 4


NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(hours=24)


def _child_answer(view: children.ChildView) -> Answer:
    return Answer(201, f'{{"child_id": "{view.child_id}", "version": {view.record.version}}}'.encode())


async def test_an_idempotency_key_runs_a_create_once_replays_its_answer_and_refuses_another_request(
        store: FakeRegistryStore) -> None:
    replays: list[Answer] = []

    async def on_replay(answer: Answer) -> None:
        replays.append(answer)

    async def register(key: IdempotencyKey, now: dt.datetime = NOW) -> tuple[Answer, bool]:
        outcome = await create_once(store.unit_of_work, children.register_child, RegisterChild(CADRE, SITI), key=key,
                                    answer=_child_answer, on_replay=on_replay, now=now, ttl=DAY)
        return outcome.answer, outcome.replayed

    key = IdempotencyKey("kader", "k-1", "fingerprint-1")
    first, replayed = await register(key)
    assert (first.status, replayed, replays) == (201, False, [])
    again, replayed = await register(key, NOW + DAY - dt.timedelta(seconds=1))
    assert (again, replayed, replays) == (first, True, [first])  # the first answer, and the read it discloses
    assert (len(store.tables.children), len(store.published)) == (1, 2)
    with pytest.raises(KeyReused) as reused:
        await register(IdempotencyKey("kader", "k-1", "fingerprint-2"))
    assert (reused.value.field, reused.value.kind) == ("Idempotency-Key", ErrorKind.INVALID)  # a 422, not a 409
    other_client, replayed = await register(IdempotencyKey("other-kader", "k-1", "fingerprint-2"))
    assert not replayed
    assert other_client != first
    # Once the key has expired it is forgotten: the same request runs as new.
    late, replayed = await register(key, NOW + DAY)
    assert (replayed, len(store.tables.children)) == (False, 3)
    assert late != first


async def test_a_refused_create_keeps_no_key_and_expired_keys_are_purged(store: FakeRegistryStore) -> None:
    async def nothing(_answer: Answer) -> None:
        return None

    async def register(key: IdempotencyKey, details: ChildDetails, now: dt.datetime) -> None:
        await create_once(store.unit_of_work, children.register_child, RegisterChild(CADRE, details), key=key,
                          answer=_child_answer, on_replay=nothing, now=now, ttl=DAY)

    with pytest.raises(OutsideScope):
        await register(IdempotencyKey("kader", "k-1", "f-1"), ChildDetails(full_name="Putri", sex=Sex.FEMALE,
                                                                            village_code=SUKORENO), NOW)
    assert store.tables.keys == {}
    await register(IdempotencyKey("kader", "k-1", "f-2"), SITI, NOW)
    await register(IdempotencyKey("kader", "k-2", "f-2"), SITI, NOW + dt.timedelta(hours=1))
    assert await idempotency_purge.purge(store.unit_of_work, NOW + DAY) == 1
    assert set(store.tables.keys) == {("kader", "k-2")}
    assert await idempotency_purge.purge(store.unit_of_work, NOW + DAY) == 0


async def test_a_create_then_its_read_make_one_transaction_with_the_reads_audit(store: FakeRegistryStore) -> None:
    child_id = (await _register(store)).child_id
    record = RecordConsent(CADRE, child_id, ConsentPurpose.REFERRAL, ConsentDecision.GIVEN, dt.date(2026, 11, 2))
    handler = then_read(cases.record_consent, cases.read_consent, lambda c: ReadConsent(c.by, c.child_id, None))
    consent = await execute(store.unit_of_work(), handler, record)
    assert consent.decision(ConsentPurpose.REFERRAL) is ConsentDecision.GIVEN
    assert [(a.action, a.resource_ids) for a in store.audited][-1] == ("read_consent", (child_id,))
    assert isinstance(store.published[-1], ConsentChangedV1)


async def test_a_survey_registers_good_rows_refuses_bad_ones_and_imports_again_unchanged(
        store: FakeRegistryStore) -> None:
    rows = [SurveyEntry(2, "S-1", SITI, None, ((ConsentPurpose.REFERRAL, ConsentDecision.GIVEN),),
                        dt.date(2026, 11, 2), "d1"),
            RefusedRow(3, (RowError(3, "sex", "is required"),)),
            SurveyEntry(4, "S-2", ChildDetails(full_name="Putri", sex=Sex.FEMALE, village_code=SUKORENO), None, (),
                        None, "d2")]
    command = ImportSurvey(OFFICER, rows, SurveyFile("survey.csv", "sha"))
    report = await survey.import_survey(command, store.unit_of_work)
    assert report.counts() == {"rows": 3, "created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert sum(isinstance(e, ConsentChangedV1) for e in store.published) == 1
    again = await survey.import_survey(command, store.unit_of_work)
    assert (again.created, again.unchanged) == (0, 2)
    changed = [SurveyEntry(2, "S-1", SITI, None, (), None, "d1-changed")]
    updated = await survey.import_survey(ImportSurvey(OFFICER, changed, SurveyFile("s.csv", "sha")), store.unit_of_work)
    assert updated.updated == 1


def test_details_keep_their_invariants_whoever_builds_them() -> None:
    with pytest.raises(InvalidDetails, match=r"school\.grade"):
        School(SchoolStatus.ENROLLED, 13)
    with pytest.raises(InvalidDetails, match="full_name"):
        ChildChanges(frozenset({"full_name"}), full_name=None)
    with pytest.raises(InvalidDetails, match="aliases"):
        ChildDetails(full_name="A", sex=Sex.MALE, village_code=KESILIR, aliases=tuple("abcdefghijk"))


@pytest.mark.parametrize(("error", "kind"), [
    (ChildNotFound(), ErrorKind.NOT_FOUND), (OutsideScope(), ErrorKind.FORBIDDEN), (StaleVersion(), ErrorKind.STALE),
    (CaseRequired(), ErrorKind.CONFLICT), (KeyReused(), ErrorKind.INVALID),
    (UnknownVillage(), ErrorKind.INVALID)])
def test_every_refusal_has_the_kind_the_api_answers_it_with(error: DomainError, kind: ErrorKind) -> None:
    assert error.kind is kind
