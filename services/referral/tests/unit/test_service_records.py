"""The service_records area's use cases on the fake: a provider's record on its accepted referral starts the service
and is announced once (codes on the wire, never the notes); every rule refuses naming its field and changes
nothing; another provider's referral is not found; a batch takes the good records in one transaction and gives a
result per record, the refused ones changing nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from referral.domain.commands.service_records import PushServiceRecord, PushServiceRecords, ServiceRecordIn
from referral.domain.consent import RecordedConsent
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from referral.domain.service_records import Attendance, Outcome
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers import service_records as h
from simpul_contracts.events.referral import referrals as wire
from simpul_platform.auth import Principal, Role
from simpul_platform.errors import DomainError, ErrorKind
from simpul_platform.unit_of_work import execute

ISSUED = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 09:00 in Jember (WIB)
NOW = dt.datetime(2026, 3, 9, 3, 0, tzinfo=dt.UTC)
SCHOOL, PSYCHOSOCIAL, HEALTH = "child.school_re_entry", "child.psychosocial_support", "child.health"
LPA, OTHER = "prv_lpa", "prv_other"
PROVIDER = Principal("lpa-staff", Role.PROVIDER, (LPA,))
SHA = "ab" * 32


def referral(referral_id: str, provider_id: str = LPA, status: ReferralStatus = ReferralStatus.ACCEPTED) -> Referral:
    request = ReferralRequest(referral_id, f"chd_{referral_id}", f"per_{referral_id}", "35.09", (SCHOOL, PSYCHOSOCIAL),
                              RecordedConsent(ISSUED))
    steps = [ReferralStatus.ISSUED, ReferralStatus.ACKNOWLEDGED, ReferralStatus.ACCEPTED, ReferralStatus.IN_SERVICE]
    history = [Step(s, "lpa-staff", ISSUED + dt.timedelta(hours=n)) for n, s in enumerate(steps)]
    return Referral(request, provider_id, history[:steps.index(status) + 1], PersonLink(f"per_{referral_id}"))


@pytest.fixture
async def uow() -> FakeReferralUnitOfWork:
    fake = FakeReferralUnitOfWork()
    async with fake:
        await fake.referrals.save(referral("r1"))
        await fake.referrals.save(referral("r2", status=ReferralStatus.IN_SERVICE))
        await fake.referrals.save(referral("r3", OTHER))
        await fake.referrals.save(referral("r4", status=ReferralStatus.ISSUED))
        await fake.commit()
    fake.published.clear()
    return fake


def pushed(referral_id: str = "r1", record_id: str = "svc_1", **changes: object) -> ServiceRecordIn:
    values: dict[str, object] = {"service_type": SCHOOL, "delivered_on": dt.date(2026, 3, 9),
                                 "attendance": Attendance.ATTENDED, "outcome": Outcome.ACHIEVED,
                                 "notes": "Budi is back in grade 5", "attachments": (("https://f.example/a.pdf", SHA),)}
    return ServiceRecordIn(referral_id, record_id, **(values | changes))  # type: ignore[arg-type]


async def refusal(uow: FakeReferralUnitOfWork, record: ServiceRecordIn, by: Principal = PROVIDER) -> DomainError:
    before = await uow.referrals.get(record.referral_id)
    with pytest.raises(DomainError) as refused:
        await execute(uow, h.push_service_record, PushServiceRecord(by, NOW, record))
    assert await uow.referrals.get(record.referral_id) == before
    assert uow.published == []
    return refused.value


async def test_a_record_on_an_accepted_referral_starts_the_service_and_is_announced_with_its_codes(
        uow: FakeReferralUnitOfWork) -> None:
    record = await execute(uow, h.push_service_record, PushServiceRecord(PROVIDER, NOW, pushed()))
    stored = await uow.referrals.get("r1")
    assert stored is not None
    assert stored.status is ReferralStatus.IN_SERVICE
    assert stored.service_records == [record]
    assert (record.record_id, record.recorded_by, record.recorded_at, record.attachments[0].sha256) == (
        "svc_1", "lpa-staff", NOW, SHA)
    started, recorded = uow.published
    assert isinstance(started, wire.ReferralServiceStartedV1)
    assert isinstance(recorded, wire.ReferralServiceRecordedV1)
    assert (recorded.record_id, recorded.attendance, recorded.outcome, recorded.delivered_on) == (
        "svc_1", wire.Attendance.ATTENDED, wire.ServiceOutcome.ACHIEVED, dt.date(2026, 3, 9))
    assert "Budi" not in recorded.model_dump_json()
    assert "f.example" not in recorded.model_dump_json()


@pytest.mark.parametrize(("changes", "field"), [
    ({"service_type": HEALTH}, "service_type"),
    ({"delivered_on": dt.date(2026, 3, 11)}, "delivered_on"),
    ({"delivered_on": dt.date(2026, 3, 1)}, "delivered_on"),
    ({"attendance": Attendance.DID_NOT_ATTEND}, "outcome"),
    ({"notes": "x" * 2001}, "notes"),
    ({"attachments": (("http://f.example/a.pdf", SHA),)}, "attachments.url"),
    ({"attachments": (("https://f.example/a.pdf", "AB" * 32),)}, "attachments.sha256"),
    ({"attachments": tuple((f"https://f.example/{n}", f"{n:064x}") for n in range(11))}, "attachments"),
])
async def test_each_rule_refuses_naming_its_field_and_changes_nothing(
        uow: FakeReferralUnitOfWork, changes: dict[str, object], field: str) -> None:
    error = await refusal(uow, pushed(**changes))
    assert (error.kind, error.field) == (ErrorKind.INVALID, field)


async def test_a_same_day_record_in_eastern_indonesia_is_not_in_the_future(uow: FakeReferralUnitOfWork) -> None:
    # 16:00 UTC on the 9th is already the 10th in Papua (WIT, UTC+9).
    late = dt.datetime(2026, 3, 9, 16, 0, tzinfo=dt.UTC)
    record = pushed(delivered_on=dt.date(2026, 3, 10))
    assert (await execute(uow, h.push_service_record, PushServiceRecord(PROVIDER, late, record))).record_id == "svc_1"


async def test_a_record_dated_the_issues_utc_day_is_not_before_the_referral(uow: FakeReferralUnitOfWork) -> None:
    # Issued at 19:00 UTC on the 1st (already the 2nd in Jember): a client dating in UTC says the 1st.
    late_issue = referral("r5")
    late_issue.history = [dataclasses.replace(step, at=step.at.replace(day=1, hour=19)) for step in late_issue.history]
    async with uow:
        await uow.referrals.save(late_issue)
        await uow.commit()
    taken = await execute(uow, h.push_service_record, PushServiceRecord(
        PROVIDER, NOW, pushed("r5", delivered_on=dt.date(2026, 3, 1))))
    assert taken.delivered_on == dt.date(2026, 3, 1)
    uow.published.clear()
    assert (await refusal(uow, pushed("r5", "svc_2", delivered_on=dt.date(2026, 2, 28)))).field == "delivered_on"


async def test_an_issued_referral_takes_no_record_and_another_providers_is_not_found(
        uow: FakeReferralUnitOfWork) -> None:
    assert (await refusal(uow, pushed("r4"))).kind is ErrorKind.CONFLICT
    missing = await refusal(uow, pushed("r3"))
    assert (missing.kind, missing.field) == (ErrorKind.NOT_FOUND, "referral_id")
    assert (await refusal(uow, pushed("nope"))).kind is ErrorKind.NOT_FOUND


async def test_only_a_provider_pushes_records(uow: FakeReferralUnitOfWork) -> None:
    officer = Principal("officer-jember", Role.DISTRICT_OFFICER, ("35.09",))
    assert (await refusal(uow, pushed(), by=officer)).kind is ErrorKind.FORBIDDEN


async def test_a_batch_takes_the_good_records_together_and_reports_each(uow: FakeReferralUnitOfWork) -> None:
    records = (pushed("r1", "svc_a"), pushed("r3", "svc_b"), pushed("r2", "svc_c", service_type=PSYCHOSOCIAL),
               pushed("r1", "svc_d", delivered_on=dt.date(2026, 4, 1)), pushed("r1", "svc_e", outcome=None),
               pushed("r4", "svc_f"))
    results = await execute(uow, h.push_service_records, PushServiceRecords(PROVIDER, NOW, records))
    assert [(r.index, r.record.record_id if r.record else None) for r in results] == [
        (0, "svc_a"), (1, None), (2, "svc_c"), (3, None), (4, "svc_e"), (5, None)]
    assert [(r.refusal.kind, r.refusal.field) for r in results if r.refusal] == [
        (ErrorKind.NOT_FOUND, "referral_id"), (ErrorKind.INVALID, "delivered_on"), (ErrorKind.CONFLICT, "status")]
    r1, r2, r4 = [await uow.referrals.get(rid) for rid in ("r1", "r2", "r4")]
    assert [r.record_id for r in r1.service_records] == ["svc_a", "svc_e"]  # type: ignore[union-attr]
    assert [r.record_id for r in r2.service_records] == ["svc_c"]  # type: ignore[union-attr]
    assert r4.status is ReferralStatus.ISSUED  # type: ignore[union-attr]
    recorded = [e.record_id for e in uow.published if isinstance(e, wire.ReferralServiceRecordedV1)]
    assert sorted(recorded) == ["svc_a", "svc_c", "svc_e"]
    assert sum(isinstance(e, wire.ReferralServiceStartedV1) for e in uow.published) == 1
    assert uow.commits == 2  # the fixture's and the batch's: one transaction


async def test_a_batch_of_a_non_provider_is_refused_whole(uow: FakeReferralUnitOfWork) -> None:
    officer = Principal("officer-jember", Role.DISTRICT_OFFICER, ("35.09",))
    with pytest.raises(DomainError) as refused:
        await execute(uow, h.push_service_records, PushServiceRecords(officer, NOW, (pushed(),)))
    assert refused.value.kind is ErrorKind.FORBIDDEN
