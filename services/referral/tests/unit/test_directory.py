"""The directory's use cases against the fake: registering and changing providers within the officer's districts,
searching, vetting by the KPAI checklist, agreements, suspension and offboarding, and the service-type list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from referral.domain.agreements import AgreementKind
from referral.domain.commands.directory import (
    AgreementTerms,
    ChangeProviderDetails,
    ImportServiceTypes,
    OffboardProvider,
    ProviderDetails,
    ProviderFilters,
    ReadProvider,
    ReadServiceTypes,
    RecordAgreement,
    RecordVetting,
    RegisterProvider,
    ReinstateProvider,
    Scores,
    SearchProviders,
    SetCapacity,
    SuspendProvider,
)
from referral.domain.consent import RecordedConsent
from referral.domain.district_queue import QueueReason, queue_reason
from referral.domain.errors import Conflict, Forbidden, Invalid, NotFound
from referral.domain.lifecycle import ReferralRequest, ReferralStatus
from referral.domain.providers import Capacity, Contact, Provider, ProviderStatus, ProviderType
from referral.domain.referrals import Referral
from referral.domain.service_types import PILOT_SERVICE_TYPES, ListedServiceType
from referral.domain.vetting import LegalDocument, LegalDocumentKind, YearsWithChildren
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers import directory
from simpul_contracts.events.referral import providers as wire
from simpul_contracts.events.referral import referrals as referral_wire
from simpul_platform.auth import Principal, Role
from simpul_platform.unit_of_work import execute

JEMBER, LOMBOK_TIMUR, LOMBOK_UTARA = "35.09", "52.03", "52.08"
SCHOOL, PSYCHOSOCIAL = "child.school_re_entry", "child.psychosocial_support"
OFFICER = Principal("officer-jember", Role.DISTRICT_OFFICER, (JEMBER,))
NATIONAL = Principal("ministry-admin", Role.MINISTRY, ())
NTB_OFFICER = Principal("officer-ntb", Role.DISTRICT_OFFICER, ("52",))  # a province: both Lombok districts
AT = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
DAY = AT.date()


def details(**changes: Any) -> ProviderDetails:
    fields: dict[str, Any] = {"districts": frozenset({JEMBER}), "contacts": (Contact("Bu Ani", "head", "0331"),),
                              "catalogue": frozenset({SCHOOL})}
    return ProviderDetails(**(fields | changes))


async def register(uow: FakeReferralUnitOfWork, by: Principal = OFFICER, **changes: Any) -> Provider:
    return await execute(uow, directory.register_provider,
                         RegisterProvider(by, "LPA Jember", ProviderType.NGO, details(**changes), AT))


def documents(valid: int = 4, expiring_on: dt.date | None = None) -> tuple[LegalDocument, ...]:
    """`valid` documents valid on DAY; the last valid one expires on `expiring_on` when given."""
    since = dt.date(2020, 1, 1)
    kinds = list(LegalDocumentKind)
    return tuple(LegalDocument(kind, f"DOC-{n}", since,
                               (expiring_on if n == valid - 1 else None) if n < valid else DAY)
                 for n, kind in enumerate(kinds))


async def vet(uow: FakeReferralUnitOfWork, provider_id: str, legality: int, track: int, vision: int = 0,
              orientation: int = 0, years: YearsWithChildren = YearsWithChildren.NONE,
              expiring_on: dt.date | None = None) -> Any:
    return await execute(uow, directory.record_vetting, RecordVetting(
        OFFICER, provider_id, documents(legality, expiring_on), Scores(track, vision, orientation, years), AT,
        ("deed copy",), "visited"))


def published(uow: FakeReferralUnitOfWork, kind: type) -> list[Any]:
    return [event for event in uow.published if isinstance(event, kind)]


async def test_registering_announces_the_provider_and_audits_the_officer() -> None:
    uow = FakeReferralUnitOfWork()
    provider = await register(uow)
    [event] = uow.published
    assert isinstance(event, wire.ProviderRegisteredV1)
    assert (event.provider_id, event.organisation, event.districts, event.recorded_by) == (
        provider.provider_id, "LPA Jember", [JEMBER], "officer-jember")
    assert "Bu Ani" not in event.model_dump_json()  # contacts never reach the topic
    [access] = uow.audited
    assert (access.action, access.resource, access.resource_ids) == ("register", "provider", (provider.provider_id,))


async def test_a_district_outside_the_officers_scope_or_an_unknown_service_type_is_refused() -> None:
    uow = FakeReferralUnitOfWork()
    with pytest.raises(Forbidden) as outside:
        await register(uow, districts=frozenset({JEMBER, LOMBOK_TIMUR}))
    assert outside.value.field == "districts"
    assert LOMBOK_TIMUR in outside.value.reason
    with pytest.raises(Invalid) as unknown:
        await register(uow, catalogue=frozenset({"child.juggling"}))
    assert unknown.value.field == "service_type"
    assert uow.published == []
    assert uow.audited == []


async def test_another_districts_provider_is_not_found_and_search_stays_in_scope() -> None:
    uow = FakeReferralUnitOfWork()
    jember = await register(uow)
    lombok = await register(uow, NTB_OFFICER, districts=frozenset({LOMBOK_TIMUR, LOMBOK_UTARA}),
                            catalogue=frozenset({PSYCHOSOCIAL}))
    with pytest.raises(NotFound):
        await execute(uow, directory.read_provider, ReadProvider(OFFICER, lombok.provider_id))
    with pytest.raises(NotFound):
        await execute(uow, directory.set_capacity, SetCapacity(OFFICER, lombok.provider_id, Capacity.FULL, AT))
    assert [p.provider_id for p in await execute(uow, directory.search_providers, SearchProviders(OFFICER))] == [
        jember.provider_id]
    found = await execute(uow, directory.search_providers, SearchProviders(NTB_OFFICER, ProviderFilters(
        district=LOMBOK_UTARA, service_type=PSYCHOSOCIAL)))
    assert [p.provider_id for p in found] == [lombok.provider_id]
    assert await execute(uow, directory.search_providers, SearchProviders(NTB_OFFICER, ProviderFilters(
        service_type=SCHOOL))) == []


async def test_details_and_capacity_changes_are_announced_once() -> None:
    uow = FakeReferralUnitOfWork()
    provider = await register(uow)
    await execute(uow, directory.change_provider_details, ChangeProviderDetails(
        OFFICER, provider.provider_id, details(catalogue=frozenset({SCHOOL, PSYCHOSOCIAL})), AT))
    for _ in range(2):
        await execute(uow, directory.set_capacity, SetCapacity(OFFICER, provider.provider_id, Capacity.LIMITED, AT))
    [changed] = published(uow, wire.ProviderDetailsChangedV1)
    assert changed.catalogue == [PSYCHOSOCIAL, SCHOOL]
    assert [e.capacity for e in published(uow, wire.ProviderCapacityChangedV1)] == [wire.ProviderCapacity.LIMITED]
    stored = await execute(uow, directory.read_provider, ReadProvider(OFFICER, provider.provider_id))
    assert (stored.capacity, stored.catalogue) == (Capacity.LIMITED, frozenset({SCHOOL, PSYCHOSOCIAL}))


@pytest.mark.parametrize(("scores", "total", "recommendation"), [
    ((1, 2, 2, 0), 5, wire.VettingRecommendation.NOT_RECOMMENDED),
    ((2, 2, 2, 0), 6, wire.VettingRecommendation.MAY_BE_RECOMMENDED),
    ((4, 2, 1, 1), 8, wire.VettingRecommendation.MAY_BE_RECOMMENDED),
    ((4, 2, 2, 1), 9, wire.VettingRecommendation.RECOMMENDED),
])
async def test_a_vetting_is_scored_by_the_checklist(scores: tuple[int, int, int, int], total: int,
                                                    recommendation: wire.VettingRecommendation) -> None:
    uow = FakeReferralUnitOfWork()
    provider = await register(uow)
    legality, track, vision, orientation = scores
    _, vetting, score = await vet(uow, provider.provider_id, legality, track, vision, orientation)
    assert (score.legality, score.total) == (legality, total)
    [event] = published(uow, wire.ProviderVettedV1)
    assert (event.vetting_id, event.total, event.recommendation) == (vetting.vetting_id, total, recommendation)
    stored = await execute(uow, directory.read_provider, ReadProvider(OFFICER, provider.provider_id))
    assert stored.current_vetting == vetting
    assert stored.scored == score


async def test_an_expiring_document_lowers_the_score_on_its_expiry_day_once() -> None:
    uow = FakeReferralUnitOfWork()
    provider = await register(uow)
    expiry = DAY + dt.timedelta(days=10)
    await vet(uow, provider.provider_id, 4, 2, 1, 2, expiring_on=expiry)  # 9, recommended, until the expiry
    at = AT + dt.timedelta(days=9)
    before = directory.RescoreDueProviders(expiry - dt.timedelta(days=1), at)
    assert (await execute(uow, directory.rescore_due_providers, before)).claimed == 0
    on_the_day = directory.RescoreDueProviders(expiry, at + dt.timedelta(days=1))
    assert (await execute(uow, directory.rescore_due_providers, on_the_day)).changed == (provider.provider_id,)
    assert (await execute(uow, directory.rescore_due_providers, on_the_day)).claimed == 0  # nothing due now
    [event] = published(uow, wire.ProviderRescoredV1)
    assert (event.on, event.previous_total, event.total, event.recommendation, event.recorded_by) == (
        expiry, 9, 8, wire.VettingRecommendation.MAY_BE_RECOMMENDED, directory.RESCORER)
    stored = await execute(uow, directory.read_provider, ReadProvider(OFFICER, provider.provider_id))
    assert stored.scored is not None
    assert stored.scored.total == 8


async def test_a_provider_another_replica_holds_is_skipped() -> None:
    uow = FakeReferralUnitOfWork()
    provider = await register(uow)
    await vet(uow, provider.provider_id, 4, 2, expiring_on=DAY + dt.timedelta(days=1))
    uow.providers.locked.add(provider.provider_id)
    rescore = directory.RescoreDueProviders(DAY + dt.timedelta(days=1), AT + dt.timedelta(days=1))
    assert (await execute(uow, directory.rescore_due_providers, rescore)).claimed == 0
    uow.providers.locked.clear()
    assert (await execute(uow, directory.rescore_due_providers, rescore)).changed == (provider.provider_id,)


def terms(**changes: Any) -> AgreementTerms:
    fields: dict[str, Any] = {"kind": AgreementKind.MOU, "document_reference": "MoU 12/2026",
                              "starts_on": dt.date(2026, 1, 1), "ends_on": dt.date(2026, 12, 31),
                              "service_types": frozenset({SCHOOL}), "districts": frozenset({JEMBER})}
    return AgreementTerms(**(fields | changes))


async def test_an_agreement_is_recorded_then_amended_and_an_unknown_one_is_not_found() -> None:
    uow = FakeReferralUnitOfWork()
    provider = await register(uow)
    _, agreement = await execute(uow, directory.record_agreement, RecordAgreement(OFFICER, provider.provider_id,
                                                                                  terms(), AT))
    await execute(uow, directory.record_agreement, RecordAgreement(
        OFFICER, provider.provider_id, terms(kind=AgreementKind.PKS, ends_on=dt.date(2027, 6, 30)), AT,
        agreement.agreement_id))
    with pytest.raises(NotFound):
        await execute(uow, directory.record_agreement, RecordAgreement(OFFICER, provider.provider_id, terms(), AT,
                                                                       "agr_unknown"))
    with pytest.raises(Forbidden):
        await execute(uow, directory.record_agreement, RecordAgreement(
            OFFICER, provider.provider_id, terms(districts=frozenset({LOMBOK_TIMUR})), AT))
    stored = await execute(uow, directory.read_provider, ReadProvider(OFFICER, provider.provider_id))
    assert list(stored.agreements) == [agreement.agreement_id]
    assert stored.agreements[agreement.agreement_id].kind is AgreementKind.PKS
    changes = published(uow, wire.ProviderAgreementChangedV1)
    assert [(e.kind, e.ends_on) for e in changes] == [(wire.AgreementKind.MOU, dt.date(2026, 12, 31)),
                                                      (wire.AgreementKind.PKS, dt.date(2027, 6, 30))]


async def test_suspend_reinstate_offboard() -> None:
    uow = FakeReferralUnitOfWork()
    provider = await register(uow)
    pid = provider.provider_id
    await execute(uow, directory.suspend_provider, SuspendProvider(OFFICER, pid, "licence under review", AT))
    with pytest.raises(Conflict) as twice:
        await execute(uow, directory.suspend_provider, SuspendProvider(OFFICER, pid, "again", AT))
    assert "suspended" in twice.value.reason
    await execute(uow, directory.reinstate_provider, ReinstateProvider(OFFICER, pid, AT))
    await execute(uow, directory.offboard_provider, OffboardProvider(OFFICER, pid, "closed down", AT))
    with pytest.raises(Conflict):
        await execute(uow, directory.set_capacity, SetCapacity(OFFICER, pid, Capacity.FULL, AT))
    stored = await execute(uow, directory.read_provider, ReadProvider(OFFICER, pid))
    assert stored.status is ProviderStatus.OFFBOARDED
    kinds = [type(e) for e in uow.published]
    assert kinds == [wire.ProviderRegisteredV1, wire.ProviderSuspendedV1, wire.ProviderReinstatedV1,
                     wire.ProviderOffboardedV1]
    assert "licence under review" not in uow.published[1].model_dump_json()  # written reasons stay here
    assert [(a.action, a.reason) for a in uow.audited[1:]] == [
        ("suspend", "licence under review"), ("reinstate", None), ("offboard", "closed down")]


async def test_an_import_versions_the_service_type_list_and_keeps_retired_codes() -> None:
    uow = FakeReferralUnitOfWork()
    assert (await execute(uow, directory.read_service_types, ReadServiceTypes())).version == 1  # the pilot list
    rows = (*(row for row in PILOT_SERVICE_TYPES if row.code != "child.school_kit"),
            ListedServiceType("child.digital_literacy", "Digital literacy"))
    listed, change = await execute(uow, directory.import_service_types, ImportServiceTypes(NATIONAL, rows, AT))
    assert (listed.version, change.created, change.retired) == (2, ("child.digital_literacy",), ("child.school_kit",))
    again, unchanged = await execute(uow, directory.import_service_types, ImportServiceTypes(NATIONAL, rows, AT))
    assert (again.version, unchanged.changes) == (2, 0)
    stored = await execute(uow, directory.read_service_types, ReadServiceTypes())
    kit = stored.get("child.school_kit")
    assert kit is not None
    assert kit.retired
    with pytest.raises(Invalid) as retired:
        await register(uow, catalogue=frozenset({"child.school_kit"}))
    assert "retired" in retired.value.reason
    assert len(uow.audited) == 1  # the import that changed something


async def test_suspending_sends_the_open_referrals_back_to_the_district_queue() -> None:
    uow = FakeReferralUnitOfWork()
    provider = await register(uow)
    pid = provider.provider_id
    await vet(uow, pid, 4, 2, 2, 1)
    await execute(uow, directory.record_agreement, RecordAgreement(OFFICER, pid, terms(), AT))
    eligible = await execute(uow, directory.read_provider, ReadProvider(OFFICER, pid))
    async with uow:
        for n, answered in ((1, False), (2, True)):
            request = ReferralRequest(f"ref_{n}", f"chd_{n}", f"per_{n}", JEMBER, (SCHOOL,), RecordedConsent(AT))
            referral = Referral.issue(request, eligible, "officer-jember", AT)
            if answered:
                referral.acknowledge("provider-user", AT)
                referral.decline("no_capacity", "provider-user", AT)
            referral.events.clear()
            await uow.referrals.save(referral)
        await uow.commit()
    await execute(uow, directory.suspend_provider, SuspendProvider(OFFICER, pid, "licence under review", AT))
    async with uow:
        open_one, declined = await uow.referrals.get("ref_1"), await uow.referrals.get("ref_2")
    assert open_one is not None
    assert declined is not None
    assert open_one.status is ReferralStatus.REVOKED
    assert queue_reason(open_one) is QueueReason.REROUTED
    assert declined.status is ReferralStatus.DECLINED
    [revoked] = published(uow, referral_wire.ReferralRevokedV1)
    assert (revoked.referral_id, revoked.reason) == ("ref_1", referral_wire.RevocationReason.PROVIDER_SUSPENDED)
