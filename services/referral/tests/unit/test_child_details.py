"""The minimal child details against the fake: held while consent holds, the newest version wins, withdrawn and
erased as the rules say, read by district officers of the child's district only, every read audited."""

from __future__ import annotations

import datetime as dt

import pytest

from referral.domain.child_details import ChildDetails, ChildDetailsNotFound, GuardianContact, Withdrawal
from referral.domain.commands.child_details import (
    EraseExpiredChildDetails,
    KeepChildDetails,
    ReadChildDetails,
    WithdrawChildDetails,
)
from referral.domain.consent import RecordedConsent
from referral.domain.errors import Forbidden
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers.child_details import (
    erase_expired_child_details,
    keep_child_details,
    read_child_details,
    withdraw_child_details,
)
from simpul_platform.auth import Principal, Role
from simpul_platform.unit_of_work import execute

T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
KESILIR = "35.09.11.2007"
JEMBER_OFFICER = Principal("officer-jember", Role.DISTRICT_OFFICER, ("35.09",))
LOMBOK_OFFICER = Principal("officer-lotim", Role.DISTRICT_OFFICER, ("52.03",))
RETENTION, RECHECK = dt.timedelta(days=30), dt.timedelta(days=1)


def _details(child_id: str = "c1", as_of: dt.datetime = T0, name: str = "Siti Aminah") -> ChildDetails:
    return ChildDetails(child_id=child_id, full_name=name, sex="female", birth_date=dt.date(2014, 6, 2),
                        birth_date_precision="day", village_code=KESILIR,
                        guardians=(GuardianContact("Pak Karto", "grandfather", "+62 812 0000 1111"),),
                        consent_given_on=dt.date(2026, 5, 30), as_of=as_of)


async def _keep(uow: FakeReferralUnitOfWork, *versions: ChildDetails) -> None:
    await execute(uow, keep_child_details, KeepChildDetails(versions, received_at=T0))


async def _withdraw(uow: FakeReferralUnitOfWork, *withdrawals: Withdrawal) -> None:
    await execute(uow, withdraw_child_details, WithdrawChildDetails(withdrawals))


async def _read(uow: FakeReferralUnitOfWork, by: Principal = JEMBER_OFFICER, child_id: str = "c1") -> ChildDetails:
    return await execute(uow, read_child_details, ReadChildDetails(by, child_id, dt.date(2026, 6, 1), "case review"))


@pytest.fixture
def uow() -> FakeReferralUnitOfWork:
    return FakeReferralUnitOfWork()


async def test_the_newest_version_of_a_run_is_held_and_an_older_redelivery_changes_nothing(
        uow: FakeReferralUnitOfWork) -> None:
    newer = _details(as_of=T0 + dt.timedelta(hours=1), name="Siti A.")
    await _keep(uow, _details(), newer)
    await _keep(uow, _details())  # the older version again, redelivered or replayed

    assert (await _read(uow)).full_name == "Siti A."


async def test_a_withdrawal_forgets_the_details_and_a_late_older_version_does_not_bring_them_back(
        uow: FakeReferralUnitOfWork) -> None:
    await _keep(uow, _details())
    await _withdraw(uow, Withdrawal("c1", T0 + dt.timedelta(hours=1)))
    await _keep(uow, _details(as_of=T0 + dt.timedelta(minutes=30)))

    assert await uow.child_details.details_of("c1") is None
    with pytest.raises(ChildDetailsNotFound):
        await _read(uow)


async def test_a_withdrawal_older_than_the_details_held_does_not_erase_newer_consent(
        uow: FakeReferralUnitOfWork) -> None:
    await _keep(uow, _details(as_of=T0 + dt.timedelta(days=2)))  # consent given again after the withdrawal
    await _withdraw(uow, Withdrawal("c1", T0))

    assert (await _read(uow)).child_id == "c1"


async def test_details_given_again_after_a_withdrawal_are_held(uow: FakeReferralUnitOfWork) -> None:
    await _withdraw(uow, Withdrawal("c1", T0))
    await _keep(uow, _details(as_of=T0 + dt.timedelta(days=1)))

    assert (await _read(uow)).age_on(dt.date(2026, 6, 1)) == 11
    assert (await _read(uow)).age_on(dt.date(2026, 6, 2)) == 12


async def test_a_read_is_for_district_officers_of_the_childs_district_and_is_audited(
        uow: FakeReferralUnitOfWork) -> None:
    await _keep(uow, _details())
    read = await _read(uow)

    assert read.guardians == (GuardianContact("Pak Karto", "grandfather", "+62 812 0000 1111"),)
    assert [(a.subject, a.action, a.resource_ids, a.reason) for a in uow.audited] == [
        ("officer-jember", "read_child_details", ("c1",), "case review")]
    with pytest.raises(ChildDetailsNotFound):
        await _read(uow, LOMBOK_OFFICER)
    with pytest.raises(Forbidden):
        await _read(uow, Principal("lpa-jember", Role.PROVIDER, ("lpa-jember",)))
    with pytest.raises(ChildDetailsNotFound):
        await _read(uow, child_id="never-sent")
    assert len(uow.audited) == 1  # refused reads read nothing


def _referral(child_id: str, *steps: tuple[ReferralStatus, dt.datetime]) -> Referral:
    request = ReferralRequest(referral_id=f"r-{child_id}-{len(steps)}", child_id=child_id, person_id=f"p-{child_id}",
                              district="35.09", service_types=("child.school_re_entry",),
                              consent=RecordedConsent(T0))
    return Referral(request, "lpa-jember", [Step(status, "officer", at) for status, at in steps],
                    PersonLink(f"p-{child_id}"))


async def _erase(uow: FakeReferralUnitOfWork, now: dt.datetime) -> tuple[str, ...]:
    command = EraseExpiredChildDetails(now, RETENTION, RECHECK)
    return (await execute(uow, erase_expired_child_details, command)).erased


async def test_details_go_the_retention_after_the_last_referral_closed_and_not_before(
        uow: FakeReferralUnitOfWork) -> None:
    closed_at = T0 + dt.timedelta(days=10)
    await uow.referrals.save(_referral("c1", (ReferralStatus.ISSUED, T0), (ReferralStatus.REVOKED, closed_at)))
    await uow.referrals.save(_referral("c2", (ReferralStatus.ISSUED, T0)))  # still open
    await _keep(uow, _details("c1"), _details("c2"), _details("c3"))  # c3 was never referred

    assert await _erase(uow, closed_at + RETENTION - dt.timedelta(seconds=1)) == ()
    assert uow.child_details.reviews["c1"] == closed_at + RETENTION  # looked at again exactly when it may go
    assert await _erase(uow, closed_at + RETENTION) == ("c1",)
    assert await uow.child_details.details_of("c1") is None
    assert {"c2", "c3"} <= set(uow.child_details.rows)
    assert await uow.child_details.details_of("c2") is not None
    assert await uow.child_details.details_of("c3") is not None
    assert [(a.action, a.resource_ids) for a in uow.audited] == [("erase_child_details", ("c1",))]


async def test_a_child_referred_again_keeps_its_details_until_the_new_referral_closes(
        uow: FakeReferralUnitOfWork) -> None:
    first_closed = T0 + dt.timedelta(days=1)
    await uow.referrals.save(_referral("c1", (ReferralStatus.ISSUED, T0), (ReferralStatus.EXPIRED, first_closed)))
    await _keep(uow, _details("c1"))
    await _erase(uow, T0 + dt.timedelta(days=2))  # not yet: looked at again at first_closed + RETENTION
    await uow.referrals.save(_referral("c1", (ReferralStatus.ISSUED, T0 + dt.timedelta(days=20))))

    assert await _erase(uow, first_closed + RETENTION) == ()
    assert uow.child_details.reviews["c1"] == first_closed + RETENTION + RECHECK
