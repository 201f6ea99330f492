"""The registry erased a child (ChildErasedV1): referral forgets the child's minimal details for good, even details
recorded after the ones held, and no details event from before the erasure brings them back; audited."""

from __future__ import annotations

import datetime as dt

from referral.domain.child_details import ChildDetails, GuardianContact, Withdrawal
from referral.domain.commands.child_details import EraseChildrenDetails, KeepChildDetails
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, ServiceRecord, Step
from referral.domain.overrides import Override
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers.child_details import erase_children_details, keep_child_details
from simpul_platform.unit_of_work import execute

T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
ERASED_AT = T0 + dt.timedelta(days=1)


def _details(as_of: dt.datetime) -> ChildDetails:
    return ChildDetails(child_id="c1", full_name="Siti Aminah", sex="female", birth_date=dt.date(2014, 6, 2),
                        birth_date_precision="day", village_code="35.09.11.2007",
                        guardians=(GuardianContact("Pak Karto", "grandfather", "+62 812 0000 1111"),),
                        consent_given_on=dt.date(2026, 5, 30), as_of=as_of)


async def _erase(uow: FakeReferralUnitOfWork, child_id: str = "c1") -> None:
    command = EraseChildrenDetails((Withdrawal(child_id, ERASED_AT),), ("data_subject_request",), (f"p-{child_id}",))
    await execute(uow, erase_children_details, command)


async def test_an_erasure_forgets_the_details_and_a_late_older_version_stays_forgotten() -> None:
    uow = FakeReferralUnitOfWork()
    await execute(uow, keep_child_details, KeepChildDetails((_details(T0),), received_at=T0))
    await _erase(uow)
    await execute(uow, keep_child_details, KeepChildDetails((_details(T0 + dt.timedelta(hours=1)),), received_at=T0))
    held = uow.child_details.rows["c1"]
    assert (held.details, held.as_of) == (None, ERASED_AT)
    assert "Siti" not in repr(uow.child_details.rows)
    [audited] = [a for a in uow.audited if a.action == "erase_child_details"]
    assert (audited.resource_ids, audited.reason) == (("c1",), "registry erasure: data_subject_request")


async def test_an_erasure_forgets_details_recorded_after_its_moment_too() -> None:
    uow = FakeReferralUnitOfWork()
    later = ERASED_AT + dt.timedelta(minutes=5)  # clocks disagree: the erasure still wins
    await execute(uow, keep_child_details, KeepChildDetails((_details(later),), received_at=T0))
    await _erase(uow)
    assert uow.child_details.rows["c1"].details is None


async def test_an_erasure_of_a_child_never_held_keeps_its_moment() -> None:
    uow = FakeReferralUnitOfWork()
    await _erase(uow, "c9")
    await execute(uow, keep_child_details, KeepChildDetails(
        (ChildDetails(**{**_details(T0).__dict__, "child_id": "c9"}),), received_at=T0))
    assert uow.child_details.rows["c9"].details is None


def _referral(child_id: str, number: int) -> Referral:
    request = ReferralRequest(referral_id=f"r-{child_id}-{number}", child_id=child_id, person_id="p-c1",
                              district="35.09", service_types=("child.school_re_entry",),
                              consent=Override("officer", "Siti's uncle asked"),
                              capacity_override=Override("officer", "Siti cannot wait"))
    return Referral(request, "lpa-jember", [Step(ReferralStatus.ISSUED, "officer", T0),
                                            Step(ReferralStatus.DECLINED, "lpa", T0, "Siti lives too far")],
                    PersonLink("p-c1"), service_records=[ServiceRecord("child.school_re_entry", T0.date(), "lpa",
                                                                       T0, "Siti came with Pak Karto")])


async def test_an_erasure_replaces_the_free_texts_of_the_childs_referrals_only() -> None:
    uow = FakeReferralUnitOfWork()
    async with uow:
        await uow.referrals.save(_referral("c1", 1))
        await uow.referrals.save(_referral("c2", 1))  # another record of the same person: not this erasure's
        await uow.commit()
    await _erase(uow)
    async with uow:
        erased, other = await uow.referrals.get("r-c1-1"), await uow.referrals.get("r-c2-1")
    assert erased is not None
    assert other is not None
    assert "Siti" not in repr((erased.history, erased.service_records, erased.request))
    assert [step.status for step in erased.history] == [ReferralStatus.ISSUED, ReferralStatus.DECLINED]
    assert "Siti" in repr(other.history)
