"""One suite, three stores: the registry's fake unit of work and the SQL one on PostgreSQL and on SQLite agree on
every repository, on what a commit keeps (state, events, audit entries, inbox) and on what a rollback undoes."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from registry.adapters import orm
from registry.bootstrap import MIGRATIONS, Wiring
from registry.domain.case import Case
from registry.domain.case_lifecycle import CaseStatus, Classification
from registry.domain.consent import ConsentDecision, ConsentPurpose
from registry.domain.details import ChildDetails, Guardian, School, Work
from registry.domain.errors import VersionConflict
from registry.domain.model import Child, Sex
from registry.domain.record import ChildRecord, ChildSearch
from registry.domain.regions import Region, Revision
from registry.domain.survey import ImportReport, RowError, SurveyFile
from registry.domain.visits import Hazard, SchoolStatus, WorkSector
from registry.reference import pilot_regions
from registry.service_layer.fake import FakeRegistryStore
from registry.service_layer.unit_of_work import RegistryRules, RegistryUnitOfWork, SqlRegistryUnitOfWork
from simpul_contracts.events import ChildUpdatedV1
from simpul_platform.database import Database
from simpul_platform.field_encryption import InvalidTokenError, development_blind_index_key, development_keyring
from simpul_platform.idempotency import Answer, IdempotencyKey, StoredKey
from simpul_platform.migrations import upgrade
from simpul_platform.unit_of_work import Access

KESILIR = "35.09.11.2007"
SUKORENO = "35.09.27.2002"
AT = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
DAY = dt.timedelta(hours=24)
RULES = RegistryRules("simpul-registry", development_blind_index_key())
NewUow = Callable[[], RegistryUnitOfWork]


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NewUow]:
    """A factory of units of work over one fresh store holding the pilot regions, as after the first start."""
    if request.param == "fake":
        store = FakeRegistryStore(rules=RULES)
        store.add_regions(*pilot_regions())
        yield store.unit_of_work
        return
    url = (f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}" if request.param == "sqlite"
           else request.getfixturevalue("make_database")("registry"))
    await upgrade(url, MIGRATIONS)
    database = Database(url, keyring=development_keyring())
    yield Wiring(database, RULES).unit_of_work
    await database.dispose()


def _record(child_id: str, source_record_id: str, village: str = KESILIR) -> ChildRecord:
    child = Child(child_id, "Siti Aminah", Sex.FEMALE, village, "simpul-registry", source_record_id, AT,
                  dt.date(2014, 3, 2))
    record = ChildRecord(child, updated_at=AT)
    record.apply(ChildDetails(full_name="Siti Aminah", sex=Sex.FEMALE, village_code=village, aliases=("Ninik",),
                              guardians=(Guardian("Bu Sulastri", "mother"),),
                              school=School(SchoolStatus.DROPPED_OUT, 5),
                              work=Work((WorkSector.TOBACCO,), "stringing", 20, (Hazard.GREEN_TOBACCO_SICKNESS,))))
    return record


def _case(child_id: str) -> Case:
    return Case.identify(case_id=f"cas_{child_id}", child_id=child_id, classification=Classification.AT_RISK,
                         by="kader", at=AT, reason="survey")


async def test_children_with_their_details_cases_and_consent_round_trip(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        await uow.children.add(_record("chd_1", "S-1"))
        await uow.children.save_case(_case("chd_1"))
        consent = await uow.children.consent_of("chd_1")
        consent.record(ConsentPurpose.REFERRAL, ConsentDecision.GIVEN, decided_on=AT.date(), recorded_by="kader",
                       recorded_at=AT)
        await uow.children.save_consent(consent)
        await uow.commit()
    async with new_uow() as uow:
        record = await uow.children.get("chd_1")
        assert record is not None
        assert (record.aliases, record.guardians, record.school, record.work) == (
            ["Ninik"], [Guardian("Bu Sulastri", "mother")], School(SchoolStatus.DROPPED_OUT, 5),
            Work((WorkSector.TOBACCO,), "stringing", 20, (Hazard.GREEN_TOBACCO_SICKNESS,)))
        case = await uow.children.case_of("chd_1")
        assert case is not None
        assert (case.status, case.events) == (CaseStatus.IDENTIFIED, [])
        assert (await uow.children.consent_of("chd_1")).decision(ConsentPurpose.REFERRAL) is ConsentDecision.GIVEN
        assert set(await uow.children.cases_of(["chd_1", "chd_none"])) == {"chd_1"}
        assert set(await uow.children.by_sources([("simpul-registry", "S-1"), ("other", "S-1")])) == {
            ("simpul-registry", "S-1")}
        assert await uow.children.registered("simpul-registry", ["S-1", "S-2"]) == {"S-1": ("chd_1", "")}


async def test_a_save_needs_the_version_read_and_a_link_keeps_it(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        await uow.children.add(_record("chd_1", "S-1"))
        await uow.commit()
    async with new_uow() as uow:
        record = await uow.children.get("chd_1")
        assert record is not None
        await uow.children.save(record, 1)
        with pytest.raises(VersionConflict):
            await uow.children.save(record, 1)
        record.child.link_to_person("per_1")
        await uow.children.link_persons([record])
        await uow.commit()
    async with new_uow() as uow:
        stored = await uow.children.get("chd_1")
        assert stored is not None
        assert (stored.version, stored.child.person_id) == (2, "per_1")


async def test_a_search_keeps_to_its_scope_and_filters_in_id_order(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        await uow.children.add_all([_record("chd_2", "S-2"), _record("chd_1", "S-1"),
                                    _record("chd_3", "S-3", SUKORENO)], [_case("chd_1")], [])
        await uow.commit()
    async with new_uow() as uow:
        def ids(found: list[ChildRecord]) -> list[str]:
            return [r.child_id for r in found]

        assert ids(await uow.children.search(ChildSearch(("35.09.11",)))) == ["chd_1", "chd_2"]
        assert ids(await uow.children.search(ChildSearch(("35",), name="ninik", after="chd_1"))) == ["chd_2", "chd_3"]
        assert ids(await uow.children.search(ChildSearch(("35",), status=CaseStatus.IDENTIFIED))) == ["chd_1"]
        assert ids(await uow.children.search(ChildSearch(("35",), born_after=dt.date(2015, 1, 1)))) == []
        assert ids(await uow.children.search(ChildSearch(("35",), limit=1))) == ["chd_1"]


async def test_regions_answer_registrations_and_take_an_import(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        assert await uow.regions.is_current_village(KESILIR)
        assert not await uow.regions.is_current_village("35.09.11")
        assert await uow.regions.is_known_kecamatan("35.09.11")
        villages, kecamatan = await uow.regions.codes()
        assert KESILIR in villages
        assert "35.09.11" in kecamatan
        assert "35" in await uow.regions.provinces()
        await uow.regions.create([Region.from_code("35.09.11.2099", "Baru")], AT)
        await uow.regions.retire([KESILIR], AT)
        stored = (await uow.regions.stored_in({"35"}))[KESILIR]
        await uow.regions.revise([Revision(Region.from_code(KESILIR, "Kesilir Baru"), stored.version + 1)], AT)
        await uow.commit()
    async with new_uow() as uow:
        stored = await uow.regions.stored_in({"35"})
        assert (stored[KESILIR].name, stored[KESILIR].retired) == ("Kesilir Baru", False)
        assert await uow.regions.is_current_village("35.09.11.2099")


async def test_keys_and_imports_are_kept(new_uow: NewUow) -> None:
    report = ImportReport("imp_1", "simpul-registry", rows=2, created=1, errors=[RowError(3, "sex", "is required")])
    key, other_client = IdempotencyKey("kader", "k-1", "f-1"), IdempotencyKey("other", "k-1", "f-1")
    answer = Answer(201, b'{"child_id": "chd_1", "nik": "3509114203140001"}')
    async with new_uow() as uow:
        assert await uow.idempotency_keys.claim(key, AT) is None
        await uow.idempotency_keys.add(key, answer, AT, AT + DAY)
        await uow.idempotency_keys.add(IdempotencyKey("kader", "k-2", "f-2"), answer, AT, AT + 2 * DAY)
        await uow.imports.start(report, "kader", SurveyFile("survey.csv", "sha"))
        assert await uow.imports.finished("imp_1", "kader") is None  # not finished yet
        await uow.imports.finish(report)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.idempotency_keys.claim(key, AT + DAY - dt.timedelta(seconds=1)) == StoredKey(
            "f-1", answer, AT + DAY)
        assert await uow.idempotency_keys.claim(other_client, AT) is None
        assert await uow.imports.finished("imp_1", "other") is None
        finished = await uow.imports.finished("imp_1", "kader")
        assert finished is not None
        assert (finished.counts(), finished.errors) == (report.counts(), report.errors)
    async with new_uow() as uow:
        assert await uow.idempotency_keys.claim(key, AT + DAY) is None  # expired: forgotten
        assert await uow.idempotency_keys.purge(AT + 2 * DAY, 10) == 1  # k-2; k-1 went with the claim
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.idempotency_keys.purge(AT + 3 * DAY, 10) == 0


async def test_a_stored_answer_is_sealed_to_its_key(new_uow: NewUow) -> None:
    uow = new_uow()
    if not isinstance(uow, SqlRegistryUnitOfWork):
        pytest.skip("the fake keeps answers in memory")
    key, other = IdempotencyKey("kader", "k-1", "f-1"), IdempotencyKey("kader", "k-2", "f-2")
    async with uow:
        await uow.idempotency_keys.add(key, Answer(201, b'{"nik": "3509114203140001"}'), AT, AT + DAY)
        await uow.idempotency_keys.add(other, Answer(201, b'{"nik": "3509114203149999"}'), AT, AT + DAY)
        await uow.commit()
    table = orm.idempotency_keys.c
    async with uow.database.session() as session, session.begin():
        bodies = dict((await session.execute(select(table.key, table.body))).tuples().all())
        assert all(b"3509" not in body and body.startswith(b"v2:") for body in bodies.values())
        # A token copied onto another client's key does not open there.
        await session.execute(update(orm.idempotency_keys).where(table.key == "k-2").values(body=bodies["k-1"]))
    with pytest.raises(InvalidTokenError):
        async with new_uow() as uow:
            await uow.idempotency_keys.claim(other, AT)


async def test_a_rollback_undoes_the_state_the_events_and_the_audit_entries(new_uow: NewUow) -> None:
    record = _record("chd_1", "S-1")
    async with new_uow() as uow:
        await uow.children.add(record)
        uow.publish(ChildUpdatedV1(child_id="chd_1", person_id=None, sex="female", birth_year=2014,
                                   village_code=KESILIR, case_id=None, classification=None, status=None,
                                   updated_at=AT))
        uow.audit(Access("kader", "cadre", "register", "child", ("chd_1",)))
    async with new_uow() as uow:
        assert await uow.children.get("chd_1") is None
    for uow in (new_uow(),):
        if hasattr(uow, "store"):
            assert (uow.store.published, uow.store.audited) == ([], [])  # type: ignore[attr-defined]
        else:
            database: Database = uow.database  # type: ignore[attr-defined]
            async with database.session() as session:
                outbox = (await session.execute(select(func.count()).select_from(orm.delivery.outbox))).scalar_one()
                audited = (await session.execute(select(func.count()).select_from(orm.audit_log))).scalar_one()
            assert (outbox, audited) == (0, 0)
