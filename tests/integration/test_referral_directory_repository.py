"""One suite, three stores: the directory's repositories on the fake, and on SQL over PostgreSQL and SQLite (after
the migrations, which seed the pilot service-type list), agree."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from referral.adapters import orm
from referral.bootstrap import MIGRATIONS
from referral.domain.agreements import Agreement, AgreementKind
from referral.domain.commands.directory import ProviderFilters
from referral.domain.providers import Capacity, Contact, Provider, ProviderStatus, ProviderType
from referral.domain.service_types import ListedServiceType
from referral.domain.vetting import LegalDocument, LegalDocumentKind, Vetting, YearsWithChildren
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.unit_of_work import ReferralUnitOfWork, SqlReferralUnitOfWork
from simpul_platform.database import Database
from simpul_platform.migrations import upgrade

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
JEMBER, LOMBOK_TIMUR = "35.09", "52.03"


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], ReferralUnitOfWork]]:
    """A factory of units of work over one fresh store."""
    if request.param == "fake":
        fake = FakeReferralUnitOfWork()
        yield lambda: fake
        return
    url = (f"sqlite+aiosqlite:///{tmp_path / 'referral.db'}" if request.param == "sqlite"
           else request.getfixturevalue("make_database")("referral"))
    await upgrade(url, MIGRATIONS)
    database = Database(url)
    yield lambda: SqlReferralUnitOfWork(database, orm.delivery, orm.audit_log)
    await database.dispose()


def provider(provider_id: str, districts: frozenset[str] = frozenset({JEMBER}), **changes: object) -> Provider:
    built = Provider(provider_id, f"Org {provider_id}", ProviderType.NGO, districts,
                     (Contact("Bu Ani", "head", "0331", "ani@example.org"),), frozenset({"child.health"}))
    for name, value in changes.items():
        setattr(built, name, value)
    return built


def vetted(built: Provider) -> Provider:
    built.record_vetting(Vetting(f"vet_{built.provider_id}", (
        LegalDocument(LegalDocumentKind.DEED_OF_ESTABLISHMENT, "AHU-1", dt.date(2020, 1, 1)),
        LegalDocument(LegalDocumentKind.NPWP, "NPWP-1", dt.date(2020, 1, 1), dt.date(2026, 6, 1))),
        2, 1, 2, YearsWithChildren.OVER_10, "officer-jember", AT, ("visit",), "notes"))
    built.record_agreement(Agreement("agr_1", AgreementKind.PKS, "PKS 3/2026", dt.date(2026, 1, 1),
                                     dt.date(2026, 12, 31), frozenset({"child.health"}), frozenset({JEMBER})),
                           "officer-jember", AT)
    built.events.clear()
    return built


async def save(uow: ReferralUnitOfWork, *providers: Provider) -> None:
    async with uow:
        for each in providers:
            await uow.providers.save(each)
        await uow.commit()


async def test_a_saved_provider_comes_back_whole(new_uow: Callable[[], ReferralUnitOfWork]) -> None:
    stored = vetted(provider("prv_a", frozenset({JEMBER, LOMBOK_TIMUR})))
    await save(new_uow(), stored)
    uow = new_uow()
    async with uow:
        assert await uow.providers.get("prv_a") == stored
        assert await uow.providers.get("prv_missing") is None
    stored.set_capacity(Capacity.FULL, "officer-jember", AT)
    stored.change_details(frozenset({JEMBER}), (), frozenset({"child.health", "child.legal_aid"}), "o", AT)
    stored.events.clear()
    await save(new_uow(), stored)
    async with uow:
        assert await uow.providers.get("prv_a") == stored


async def test_search_stays_in_scope_and_filters(new_uow: Callable[[], ReferralUnitOfWork]) -> None:
    await save(new_uow(), provider("prv_a"), provider("prv_b", frozenset({LOMBOK_TIMUR})),
               provider("prv_c", frozenset({JEMBER, LOMBOK_TIMUR}), capacity=Capacity.FULL,
                        status=ProviderStatus.SUSPENDED))
    uow = new_uow()

    async def ids(scope: tuple[str, ...], **filters: object) -> list[str]:
        async with uow:
            return [p.provider_id for p in await uow.providers.search(scope, ProviderFilters(**filters))]  # type: ignore[arg-type]

    assert await ids((JEMBER,)) == ["prv_a", "prv_c"]
    assert await ids(("52",)) == ["prv_b", "prv_c"]  # a province covers its districts
    assert await ids((JEMBER,), capacity=Capacity.FULL) == ["prv_c"]
    assert await ids(("35", "52"), status=ProviderStatus.ACTIVE, district=LOMBOK_TIMUR) == ["prv_b"]
    assert await ids(("35", "52"), organisation="ORG PRV_B") == ["prv_b"]
    assert await ids(("35", "52"), service_type="child.legal_aid") == []
    assert await ids(("35", "52"), after="prv_a", limit=1) == ["prv_b"]
    assert await ids(("35.09.11.2007",)) == []  # a village scope covers no district


async def test_rescoring_days_are_kept_and_due_ones_returned(new_uow: Callable[[], ReferralUnitOfWork]) -> None:
    await save(new_uow(), vetted(provider("prv_a")), vetted(provider("prv_b")), provider("prv_c"))
    uow = new_uow()
    async with uow:
        await uow.providers.schedule_rescoring("prv_a", dt.date(2026, 6, 1))
        await uow.providers.schedule_rescoring("prv_b", dt.date(2026, 6, 2))
        await uow.commit()
    async with uow:
        assert [p.provider_id for p in await uow.providers.due_for_rescoring(dt.date(2026, 5, 31), 10)] == []
        assert [p.provider_id for p in await uow.providers.due_for_rescoring(dt.date(2026, 6, 1), 10)] == ["prv_a"]
        assert [p.provider_id for p in await uow.providers.due_for_rescoring(dt.date(2026, 7, 1), 1)] == ["prv_a"]
        await uow.providers.schedule_rescoring("prv_a", None)
        await uow.commit()
    async with uow:
        assert [p.provider_id for p in await uow.providers.due_for_rescoring(dt.date(2026, 7, 1), 10)] == ["prv_b"]


async def test_the_service_type_list_starts_as_the_pilot_list_and_keeps_versions(
    new_uow: Callable[[], ReferralUnitOfWork],
) -> None:
    uow = new_uow()
    async with uow:
        seeded = await uow.service_types.current()
        assert (seeded.version, len(seeded.current())) == (1, 14)
        listed, change = seeded.imported([ListedServiceType("child.health", "Health"),
                                          ListedServiceType("child.digital_literacy", "Digital literacy")])
        await uow.service_types.lock_for_import()
        await uow.service_types.save(listed, change, "ministry-admin", AT)
        await uow.commit()
    async with uow:
        again = await uow.service_types.current()
    assert again == listed
    assert (again.version, [e.code for e in again.current()]) == (2, ["child.digital_literacy", "child.health"])
    assert len(again.entries) == 15  # the 12 retired codes are kept
