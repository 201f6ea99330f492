"""One suite, three stores: reporting's indicator facts on the fake and, through its migrations, on SQLite and
PostgreSQL: every fact comes back as it was kept (moments in UTC), a fact kept twice is kept once, an undoing marks
its merge whichever came first, and a rolled-back save leaves nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from reporting.adapters.orm import delivery
from reporting.bootstrap import MIGRATIONS
from reporting.domain.facts import (
    ChildEvent,
    ChildEventKind,
    Merge,
    ProviderEvent,
    ProviderStep,
    ReferralEvent,
    ReferralStep,
)
from reporting.service_layer.fake import FakeReportingUnitOfWork
from reporting.service_layer.unit_of_work import ReportingUnitOfWork, SqlReportingUnitOfWork
from simpul_platform.database import Database
from simpul_platform.migrations import upgrade

WIB = dt.timezone(dt.timedelta(hours=7))
CHILD = ChildEvent(event_id="e1", kind=ChildEventKind.VISITED, child_id="c1", person_id="p1", sex="female",
                   birth_year=2014, village_code="35.09.11.2007", case_id="k1", classification="child_labourer",
                   status="monitoring", occurred_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                   stamp=dt.datetime(2026, 3, 1, 8, 30, tzinfo=WIB), child_working=False)
CLOSURE = ChildEvent(event_id="e2", kind=ChildEventKind.STATUS_CHANGED, child_id="c2", person_id=None, sex="male",
                     birth_year=None, village_code="52.08.02.2006", case_id="k2", classification="at_risk",
                     status="closed", occurred_at=dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC),
                     stamp=dt.datetime(2026, 4, 1, 9, 0, 1, tzinfo=dt.UTC), previous_status="monitoring",
                     closure_reason="protected")
REFERRAL = ReferralEvent(event_id="r1", referral_id="ref1", provider_id="prov", step=ReferralStep.ISSUED,
                         at=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), child_id="c1", district="35.09",
                         service_types=("child.health", "child.school_re_entry"))
SERVICE = ReferralEvent(event_id="r2", referral_id="ref1", provider_id="prov", step=ReferralStep.SERVICE_RECORDED,
                        at=dt.datetime(2026, 3, 20, 9, tzinfo=dt.UTC), service_types=("child.health",),
                        delivered_on=dt.date(2026, 3, 20))
AGREEMENT = ProviderEvent(event_id="p1", provider_id="prov", step=ProviderStep.AGREEMENT_CHANGED,
                          recorded_at=dt.datetime(2026, 1, 4, 9, tzinfo=dt.UTC), districts=("35.09", "52.03"),
                          agreement_id="ag1", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31))


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], ReportingUnitOfWork]]:
    """Units of work over one fresh store: the fake, or the SQL one on a migrated SQLite or PostgreSQL database."""
    if request.param == "fake":
        fake = FakeReportingUnitOfWork()
        yield lambda: fake
        return
    url = (f"sqlite+aiosqlite:///{tmp_path / 'reporting.db'}" if request.param == "sqlite"
           else request.getfixturevalue("make_database")("reporting"))
    await upgrade(url, MIGRATIONS)
    database = Database(url)
    yield lambda: SqlReportingUnitOfWork(database, delivery)
    await database.dispose()


async def keep(uow: ReportingUnitOfWork, *, commit: bool = True, merges: tuple[Merge, ...] = ()) -> None:
    async with uow:
        await uow.facts.add_child_events([CHILD, CLOSURE])
        await uow.facts.add_referral_events([REFERRAL, SERVICE])
        await uow.facts.add_provider_events([AGREEMENT])
        await uow.facts.add_merges(merges)
        if commit:
            await uow.commit()


async def test_every_fact_comes_back_as_it_was_kept(new_uow: Callable[[], ReportingUnitOfWork]) -> None:
    await keep(new_uow())
    async with new_uow() as uow:
        assert await uow.facts.child_events() == [CHILD, CLOSURE]
        assert (await uow.facts.child_events())[0].stamp == dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC)
        assert await uow.facts.referral_events() == [REFERRAL, SERVICE]
        assert await uow.facts.provider_events() == [AGREEMENT]


async def test_a_fact_kept_twice_is_kept_once(new_uow: Callable[[], ReportingUnitOfWork]) -> None:
    await keep(new_uow())
    await keep(new_uow())
    async with new_uow() as uow:
        assert len(await uow.facts.child_events()) == 2
        assert len(await uow.facts.referral_events()) == 2


async def test_an_undoing_marks_its_merge_whichever_came_first(new_uow: Callable[[], ReportingUnitOfWork]) -> None:
    merge, undoing = Merge("m1", "p2", "p1", undone=False), Merge("m1", "p2", "p1", undone=True)
    later = Merge("m2", "p3", "p1", undone=False)
    await keep(new_uow(), merges=(undoing,))
    await keep(new_uow(), merges=(merge, later))
    await keep(new_uow(), merges=(later,))
    async with new_uow() as uow:
        assert await uow.facts.merges() == [undoing, later]


async def test_a_rolled_back_save_leaves_nothing(new_uow: Callable[[], ReportingUnitOfWork]) -> None:
    await keep(new_uow(), commit=False, merges=(Merge("m1", "p2", "p1", undone=False),))
    async with new_uow() as uow:
        assert await uow.facts.child_events() == []
        assert await uow.facts.merges() == []
        assert await uow.facts.provider_events() == []
