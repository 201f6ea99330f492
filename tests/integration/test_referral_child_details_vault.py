"""One suite, three stores: referral's child-details vault in the fake and in SQL on PostgreSQL and SQLite agree on
what is held, withdrawn, erased and due for the erasure job, and on what a rollback undoes."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from referral.adapters import orm
from referral.bootstrap import MIGRATIONS
from referral.domain.child_details import ChildDetails, GuardianContact, Held, Withdrawal
from referral.domain.consent import RecordedConsent
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.unit_of_work import ReferralUnitOfWork, SqlReferralUnitOfWork
from simpul_platform.database import Database
from simpul_platform.field_encryption import development_keyring
from simpul_platform.migrations import upgrade

AT = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
NewUow = Callable[[], ReferralUnitOfWork]


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NewUow]:
    """Units of work over one fresh store."""
    if request.param == "fake":
        fake = FakeReferralUnitOfWork()
        yield lambda: fake
        return
    url = (f"sqlite+aiosqlite:///{tmp_path / 'referral.db'}" if request.param == "sqlite"
           else request.getfixturevalue("make_database")("referral"))
    await upgrade(url, MIGRATIONS)
    database = Database(url, keyring=development_keyring())
    yield lambda: SqlReferralUnitOfWork(database, orm.delivery, orm.audit_log)
    await database.dispose()


def _details(child_id: str, as_of: dt.datetime = AT) -> ChildDetails:
    return ChildDetails(child_id=child_id, full_name="Siti Aminah", sex="female", birth_date=dt.date(2014, 3, 2),
                        birth_date_precision="day", village_code="35.09.11.2007",
                        guardians=(GuardianContact("Pak Karto", "grandfather", "+62 812 0000 1111"),
                                   GuardianContact("Bu Ani", "aunt")),
                        consent_given_on=dt.date(2026, 5, 30), as_of=as_of)


async def test_details_are_held_whole_and_withdrawn_to_their_moment(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        await uow.child_details.keep(_details("c1"), review_at=AT)
        await uow.child_details.keep(_details("c2"), review_at=AT)
        await uow.child_details.withdraw(Withdrawal("c2", AT + dt.timedelta(hours=1)))
        await uow.child_details.withdraw(Withdrawal("c3", AT))
        await uow.commit()
    async with new_uow() as uow:
        held = await uow.child_details.held(["c1", "c2", "c3", "c4"])
        assert held == {"c1": Held("c1", AT, _details("c1")), "c2": Held("c2", AT + dt.timedelta(hours=1), None),
                        "c3": Held("c3", AT, None)}
        assert await uow.child_details.details_of("c1") == _details("c1")
        assert await uow.child_details.details_of("c2") is None


async def test_an_erasure_keeps_the_moment_and_happens_once(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        await uow.child_details.keep(_details("c1"), review_at=AT)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.child_details.erase("c1") is True
        assert await uow.child_details.erase("c1") is False
        assert await uow.child_details.erase("never-held") is False
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.child_details.held(["c1"]) == {"c1": Held("c1", AT, None)}
        assert await uow.child_details.due_for_review(AT + dt.timedelta(days=1), 10) == []


async def test_the_erasure_job_sees_children_by_their_next_review(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        for hours, child_id in ((3, "c3"), (1, "c1"), (2, "c2")):
            await uow.child_details.keep(_details(child_id), review_at=AT + dt.timedelta(hours=hours))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.child_details.due_for_review(AT + dt.timedelta(hours=2), 10) == ["c1", "c2"]
        assert await uow.child_details.due_for_review(AT + dt.timedelta(hours=3), 2) == ["c1", "c2"]
        await uow.child_details.review_at("c1", AT + dt.timedelta(days=1))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.child_details.due_for_review(AT + dt.timedelta(hours=5), 10) == ["c2", "c3"]


async def test_a_rollback_undoes_what_was_kept(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        await uow.child_details.keep(_details("c1"), review_at=AT)
    async with new_uow() as uow:
        assert await uow.child_details.held(["c1"]) == {}


def _referral(referral_id: str, *steps: tuple[ReferralStatus, dt.datetime]) -> Referral:
    request = ReferralRequest(referral_id=referral_id, child_id="c1", person_id="p1", district="35.09",
                              service_types=("child.school_re_entry",), consent=RecordedConsent(AT))
    return Referral(request, "lpa-jember", [Step(status, "officer", at) for status, at in steps], PersonLink("p1"))


async def test_the_retention_counts_from_the_last_referral_closed_and_not_while_one_is_open(new_uow: NewUow) -> None:
    later = AT + dt.timedelta(days=3)
    async with new_uow() as uow:
        assert await uow.referrals.closed_since("c1") is None  # never referred
        await uow.referrals.save(_referral("r1", (ReferralStatus.ISSUED, AT),
                                           (ReferralStatus.EXPIRED, AT + dt.timedelta(days=1))))
        await uow.referrals.save(_referral("r2", (ReferralStatus.ISSUED, AT), (ReferralStatus.REVOKED, later)))
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.referrals.closed_since("c1") == later
        await uow.referrals.save(_referral("r3", (ReferralStatus.ISSUED, later)))
        assert await uow.referrals.closed_since("c1") is None
