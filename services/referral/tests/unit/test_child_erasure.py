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
from simpul_contracts.events.referral import referrals as wire
from simpul_platform.unit_of_work import execute

T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
ERASED_AT = T0 + dt.timedelta(days=1)


def _details(as_of: dt.datetime) -> ChildDetails:
    return ChildDetails(child_id="c1", full_name="Siti Aminah", sex="female", birth_date=dt.date(2014, 6, 2),
                        birth_date_precision="day", village_code="35.09.11.2007",
                        guardians=(GuardianContact("Pak Karto", "grandfather", "+62 812 0000 1111"),),
                        consent_given_on=dt.date(2026, 5, 30), as_of=as_of)


async def _erase(uow: FakeReferralUnitOfWork, child_id: str = "c1") -> None:
    command = EraseChildrenDetails((Withdrawal(child_id, ERASED_AT),), ("data_subject_request",),
                                   ERASED_AT + dt.timedelta(seconds=3))
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


OPEN_STEPS = {"r-c1-issued": (), "r-c1-acknowledged": (ReferralStatus.ACKNOWLEDGED,),
              "r-c1-accepted": (ReferralStatus.ACKNOWLEDGED, ReferralStatus.ACCEPTED),
              "r-c1-in-service": (ReferralStatus.ACKNOWLEDGED, ReferralStatus.ACCEPTED, ReferralStatus.IN_SERVICE)}
TERMINAL_STEPS = {"r-c1-completed": (ReferralStatus.ACCEPTED, ReferralStatus.IN_SERVICE, ReferralStatus.COMPLETED),
                  "r-c1-declined": (ReferralStatus.DECLINED,), "r-c1-revoked": (ReferralStatus.REVOKED,),
                  "r-c1-expired": (ReferralStatus.EXPIRED,)}


def _in_status(referral_id: str, child_id: str, *steps: ReferralStatus) -> Referral:
    request = ReferralRequest(referral_id=referral_id, child_id=child_id, person_id="p-c1", district="35.09",
                              service_types=("child.school_re_entry",), consent=Override("officer", "Siti's uncle"))
    history = [Step(ReferralStatus.ISSUED, "officer", T0), *(Step(status, "lpa", T0) for status in steps)]
    return Referral(request, "lpa-jember", history, PersonLink("p-c1"))


async def _stored(uow: FakeReferralUnitOfWork, *referrals: Referral) -> None:
    async with uow:
        for referral in referrals:
            await uow.referrals.save(referral)
        await uow.commit()


async def test_an_erasure_revokes_the_childs_open_referrals_by_the_system_and_tells_the_provider() -> None:
    uow = FakeReferralUnitOfWork()
    await _stored(uow, *(_in_status(rid, "c1", *steps) for rid, steps in {**OPEN_STEPS, **TERMINAL_STEPS}.items()),
                  _in_status("r-c2-issued", "c2"))  # the same person's other record: not this erasure's
    before = {rid: r.history for rid, r in uow.referrals.referrals.items()}
    await _erase(uow)
    after = uow.referrals.referrals
    for referral_id in OPEN_STEPS:
        last = after[referral_id].history[-1]
        assert (last.status, last.by, last.reason) == (ReferralStatus.REVOKED, "system", "district_decision")
    assert {rid: after[rid].history for rid in TERMINAL_STEPS} == {rid: before[rid] for rid in TERMINAL_STEPS}
    assert (after["r-c2-issued"].history, after["r-c2-issued"].version) == (before["r-c2-issued"], 1)
    revoked = [e for e in uow.published if isinstance(e, wire.ReferralRevokedV1)]
    assert sorted((e.referral_id, e.reason, e.by) for e in revoked) == sorted(
        (rid, wire.RevocationReason.DISTRICT_DECISION, "system") for rid in OPEN_STEPS)
    assert "Siti" not in repr(uow.published)
    [audited] = [a for a in uow.audited if a.resource == "referral"]
    assert (audited.action, audited.subject, sorted(audited.resource_ids), audited.reason) == (
        "revoke", "system", sorted(OPEN_STEPS), "registry erasure: data_subject_request")


async def test_a_redelivered_erasure_revokes_nothing_more() -> None:
    uow = FakeReferralUnitOfWork()
    await _stored(uow, _in_status("r-c1-issued", "c1"))
    await _erase(uow)
    published, version = len(uow.published), uow.referrals.referrals["r-c1-issued"].version
    await _erase(uow)
    assert (len(uow.published), uow.referrals.referrals["r-c1-issued"].version) == (published, version)
    assert [a.resource for a in uow.audited].count("referral") == 1


async def test_an_erasure_finds_the_childs_referrals_whatever_person_they_follow_now() -> None:
    # The erasure event names the person identity last gave the child; a merge since then (or a link that never
    # reached registry) leaves the referrals under another person id: they are the child's all the same.
    uow = FakeReferralUnitOfWork()
    moved = _in_status("r-c1-issued", "c1")
    moved.person = PersonLink("p-merged")
    await _stored(uow, moved, _referral("c1", 1))
    await _erase(uow)
    revoked, texts = uow.referrals.referrals["r-c1-issued"], uow.referrals.referrals["r-c1-1"]
    assert revoked.history[-1].status == ReferralStatus.REVOKED
    assert "Siti" not in repr((revoked.request, texts.history, texts.service_records, texts.request))
