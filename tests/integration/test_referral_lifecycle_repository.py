"""One suite, three stores: referral's `Referrals` and `Consents` repositories on the fake and, through migrations
0001-0006, on SQLite and PostgreSQL agree: a referral loads back whole, a stale save is refused, the locked
queries, search by scope and filters, the district queue, and the consent states."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from referral.adapters.orm import audit_log, delivery
from referral.adapters.referral_repository import ReferralSearch
from referral.bootstrap import MIGRATIONS
from referral.domain.consent import ConsentState, RecordedConsent
from referral.domain.district_queue import QueueReason
from referral.domain.errors import Conflict
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, RevocationReason, ServiceRecord, Step
from referral.domain.overrides import Override
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.unit_of_work import ReferralUnitOfWork, SqlReferralUnitOfWork
from simpul_platform.database import Database
from simpul_platform.migrations import upgrade

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
JEMBER, LOTIM = "35.09", "52.03"
SCHOOL, HEALTH = "child.school_re_entry", "child.health"


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], ReferralUnitOfWork]]:
    """A factory of units of work over one fresh store: the fake, or the SQL one migrated on SQLite or PostgreSQL."""
    if request.param == "fake":
        fake = FakeReferralUnitOfWork()
        yield lambda: fake
        return
    url = (f"sqlite+aiosqlite:///{tmp_path / 'referral.db'}" if request.param == "sqlite"
           else request.getfixturevalue("make_database")("referral"))
    await upgrade(url, MIGRATIONS)
    database = Database(url)
    yield lambda: SqlReferralUnitOfWork(database, delivery, audit_log)
    await database.dispose()


def referral(referral_id: str, child_id: str = "c1", *, provider_id: str = "lpa", district: str = JEMBER,
             hours: int = 0, person_id: str = "p1", previous: str | None = None) -> Referral:
    """An issued referral (built directly: the gate is not what this suite tests)."""
    request = ReferralRequest(referral_id, child_id, person_id, district, (SCHOOL, HEALTH),
                              RecordedConsent(AT - dt.timedelta(days=1)))
    return Referral(request, provider_id, [Step(ReferralStatus.ISSUED, "officer", AT + dt.timedelta(hours=hours))],
                    PersonLink(person_id), previous)


async def save(new_uow: Callable[[], ReferralUnitOfWork], *referrals: Referral) -> None:
    async with new_uow() as uow:
        for one in referrals:
            await uow.referrals.save(one)
        await uow.commit()


async def test_a_referral_loads_back_whole(new_uow: Callable[[], ReferralUnitOfWork]) -> None:
    full = referral("r1")
    full.request = ReferralRequest("r1", "c1", "p1", JEMBER, (SCHOOL, HEALTH), Override("officer", "urgent"),
                                   Override("officer", "only provider"))
    full.acknowledge("staff", AT + dt.timedelta(hours=1))
    full.accept("staff", AT + dt.timedelta(hours=2))
    full.record_service(ServiceRecord(SCHOOL, AT.date(), "staff", AT + dt.timedelta(hours=3), "grade 5"))
    full.follow_merge("m1", "p1", "p9", AT + dt.timedelta(hours=4))
    full.fired_deadlines.add("r1/acknowledge")
    full.case_closed = True
    full.events.clear()
    await save(new_uow, full)
    async with new_uow() as uow:
        loaded = await uow.referrals.get("r1")
    assert loaded == full
    assert loaded is not None
    assert loaded.version == 1
    assert loaded.history[1].at == AT + dt.timedelta(hours=1)


async def test_a_save_of_a_stale_version_is_refused(new_uow: Callable[[], ReferralUnitOfWork]) -> None:
    await save(new_uow, referral("r1"))
    async with new_uow() as uow:
        first = await uow.referrals.get("r1")
    async with new_uow() as uow:
        second = await uow.referrals.get("r1", for_update=True)
        assert second is not None
        second.acknowledge("staff", AT)
        await uow.referrals.save(second)
        await uow.commit()
    assert first is not None
    first.revoke(RevocationReason.DISTRICT_DECISION, "x", "officer", AT)
    async with new_uow() as uow:
        with pytest.raises(Conflict):
            await uow.referrals.save(first)
    async with new_uow() as uow:
        kept = await uow.referrals.get("r1")
    assert kept is not None
    assert (kept.status, kept.version) == (ReferralStatus.ACKNOWLEDGED, 2)


async def test_saving_many_saves_each_whole_and_a_stale_one_refuses_them_all(
        new_uow: Callable[[], ReferralUnitOfWork]) -> None:
    await save(new_uow, referral("r1"), referral("r2", "c2"), referral("r3", "c3"))
    async with new_uow() as uow:
        stale = await uow.referrals.get("r2")
    async with new_uow() as uow:
        loaded = await uow.referrals.get_many(["r1", "r2", "r3"], for_update=True)
        for one in loaded.values():
            one.acknowledge("staff", AT + dt.timedelta(hours=1))
            one.events.clear()
        new = referral("r4", "c4")
        await uow.referrals.save_many([*loaded.values(), new])
        await uow.commit()
    assert [one.version for one in loaded.values()] == [2, 2, 2]
    async with new_uow() as uow:
        again = await uow.referrals.get_many(["r1", "r2", "r3", "r4"])
    assert again == {**loaded, "r4": new}
    assert stale is not None
    stale.revoke(RevocationReason.DISTRICT_DECISION, "x", "officer", AT)
    async with new_uow() as uow:
        fresh = await uow.referrals.get("r1", for_update=True)
        assert fresh is not None
        fresh.accept("staff", AT + dt.timedelta(hours=2))
        with pytest.raises(Conflict):
            await uow.referrals.save_many([fresh, stale])
    async with new_uow() as uow:
        kept = await uow.referrals.get_many(["r1", "r2"])
    assert [(one.status, one.version) for one in kept.values()] == [(ReferralStatus.ACKNOWLEDGED, 2)] * 2


async def test_the_open_referrals_of_a_provider_a_child_and_a_person(new_uow: Callable[[], ReferralUnitOfWork]) -> None:
    closed = referral("r0", hours=0)
    closed.revoke(RevocationReason.DISTRICT_DECISION, "x", "officer", AT)
    await save(new_uow, closed, referral("r2", hours=2), referral("r1", hours=1),
               referral("r3", "c2", provider_id="other", person_id="p2", hours=3))
    async with new_uow() as uow:
        assert [r.referral_id for r in await uow.referrals.open_of_provider("lpa")] == ["r1", "r2"]
        assert [r.referral_id for r in await uow.referrals.open_of_child("c1")] == ["r1", "r2"]
        assert [r.referral_id for r in await uow.referrals.of_child("c1")] == ["r0", "r1", "r2"]
        assert [r.referral_id for r in await uow.referrals.of_child("c2")] == ["r3"]
        assert [r.referral_id for r in await uow.referrals.of_person("p1")] == ["r0", "r1", "r2"]
        assert [r.referral_id for r in await uow.referrals.of_person("p2")] == ["r3"]


async def test_search_keeps_to_the_scope_and_its_filters_newest_first(
    new_uow: Callable[[], ReferralUnitOfWork],
) -> None:
    await save(new_uow, referral("r1", hours=1), referral("r2", "c2", hours=2, provider_id="other"),
               referral("r3", "c3", district=LOTIM, hours=3))
    async with new_uow() as uow:
        search = uow.referrals.search
        assert [r.referral_id for r in await search(ReferralSearch((JEMBER,)))] == ["r2", "r1"]
        assert [r.referral_id for r in await search(ReferralSearch(("35",)))] == ["r2", "r1"]
        assert [r.referral_id for r in await search(ReferralSearch((JEMBER, LOTIM), limit=2))] == ["r3", "r2"]
        assert [r.referral_id for r in await search(ReferralSearch((JEMBER,), provider_id="other"))] == ["r2"]
        assert [r.referral_id for r in await search(ReferralSearch((JEMBER,), child_id="c1"))] == ["r1"]
        assert await search(ReferralSearch((JEMBER,), status=ReferralStatus.DECLINED)) == []
        assert await search(ReferralSearch(("35.09.11.2007",))) == []  # a village's cadre sees no district's
        assert await search(ReferralSearch(())) == []


async def test_the_queue_holds_declined_and_rerouted_until_re_referred(
    new_uow: Callable[[], ReferralUnitOfWork],
) -> None:
    declined, rerouted, elsewhere = referral("r1", hours=1), referral("r2", "c2", hours=2), referral(
        "r3", "c3", district=LOTIM, hours=3)
    for one in (declined, elsewhere):
        one.acknowledge("staff", AT)
        one.decline("no_capacity", "staff", AT)
    rerouted.revoke_if_open(RevocationReason.PROVIDER_SUSPENDED, AT)
    await save(new_uow, declined, rerouted, elsewhere, referral("r4", "c4"))
    async with new_uow() as uow:
        queued = await uow.referrals.queue((JEMBER,))
    assert [(q.referral.referral_id, q.reason) for q in queued] == [("r1", QueueReason.DECLINED),
                                                                    ("r2", QueueReason.REROUTED)]
    await save(new_uow, referral("r5", hours=5, previous="r1"))
    async with new_uow() as uow:
        assert [q.referral.referral_id for q in await uow.referrals.queue((JEMBER,))] == ["r2"]


async def test_consent_states_are_kept_per_child(new_uow: Callable[[], ReferralUnitOfWork]) -> None:
    given, withdrawn = ConsentState("c1", True, AT), ConsentState("c1", False, AT + dt.timedelta(days=1))
    async with new_uow() as uow:
        assert await uow.consents.get("c1") is None
        await uow.consents.save(given)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.consents.get("c1") == given
        await uow.consents.save(withdrawn)
        await uow.commit()
    async with new_uow() as uow:
        stored = await uow.consents.get("c1")
    assert stored is not None
    assert (stored.given, stored.recorded_at) == (False, withdrawn.recorded_at)
