"""The provider sync against the fake: a provider sees only its own referrals, in change order, each at its latest
version; a cursor resumes exactly after the last change served; pages say when more are ready; every referral
shown is audited; the read carries the child's minimal details (audited too); a provider sets its own capacity."""

from __future__ import annotations

import datetime as dt

import pytest

from referral.domain.child_details import ChildDetails, GuardianContact
from referral.domain.commands.provider_sync import (
    ListProviderReferrals,
    ReadProviderReferral,
    SetOwnCapacity,
    SyncPosition,
)
from referral.domain.commands.referrals import AcknowledgeReferral
from referral.domain.consent import RecordedConsent
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.providers import Capacity, Provider, ProviderType
from referral.domain.referrals import Referral
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers import referrals as lifecycle
from referral.service_layer.handlers.provider_sync import (
    ProviderReferralPage,
    list_provider_referrals,
    read_provider_referral,
    set_own_capacity,
)
from simpul_contracts.events.referral import providers as provider_wire
from simpul_platform.auth import Principal, Role
from simpul_platform.errors import DomainError, ErrorKind
from simpul_platform.unit_of_work import execute

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
JEMBER, KESILIR = "35.09", "35.09.11.2007"
LPA = Principal("staff-lpa", Role.PROVIDER, ("lpa",))
OTHER = Principal("staff-other", Role.PROVIDER, ("other",))
OFFICER = Principal("officer-jember", Role.DISTRICT_OFFICER, (JEMBER,))


def referral(referral_id: str, provider_id: str = "lpa", child_id: str = "c1") -> Referral:
    request = ReferralRequest(referral_id, child_id, f"p_{child_id}", JEMBER, ("child.school_re_entry",),
                              RecordedConsent(AT - dt.timedelta(days=1)))
    return Referral(request, provider_id, [Step(ReferralStatus.ISSUED, "officer", AT)], PersonLink(f"p_{child_id}"))


async def stored(*referrals: Referral) -> FakeReferralUnitOfWork:
    uow = FakeReferralUnitOfWork()
    async with uow:
        for one in referrals:
            await uow.referrals.save(one)
        await uow.commit()
    return uow


async def page(uow: FakeReferralUnitOfWork, by: Principal = LPA, after: SyncPosition | None = None,
               limit: int = 100, since: dt.datetime | None = None) -> ProviderReferralPage:
    return await execute(uow, list_provider_referrals, ListProviderReferrals(by, after, since, limit))


def ids(found: ProviderReferralPage) -> list[str]:
    return [changed.referral.referral_id for changed in found.items]


async def refused(uow: FakeReferralUnitOfWork, handler: object, command: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await execute(uow, handler, command)  # type: ignore[arg-type]
    return caught.value


async def test_a_provider_sees_only_its_own_referrals_in_change_order_each_at_its_latest_version() -> None:
    uow = await stored(referral("r1"), referral("r2", "other"), referral("r3"))
    first = await page(uow)
    assert (ids(first), first.more) == (["r1", "r3"], False)
    await execute(uow, lifecycle.acknowledge_referral, AcknowledgeReferral(LPA, "r1", AT))
    again = await page(uow, after=first.next)
    assert ids(again) == ["r1"]
    assert (again.items[0].referral.status, again.items[0].referral.version) == (ReferralStatus.ACKNOWLEDGED, 2)
    assert ids(await page(uow)) == ["r3", "r1"]  # r1 moved to its new change
    assert ids(await page(uow, OTHER)) == ["r2"]


async def test_a_cursor_resumes_after_the_last_change_served_and_stays_put_while_nothing_changes() -> None:
    uow = await stored(*(referral(f"r{n}") for n in range(5)))
    first = await page(uow, limit=2)
    assert (ids(first), first.more) == (["r0", "r1"], True)
    second = await page(uow, after=first.next, limit=2)
    third = await page(uow, after=second.next, limit=2)
    assert (ids(second), ids(third), third.more) == (["r2", "r3"], ["r4"], False)
    idle = await page(uow, after=third.next)
    assert (ids(idle), idle.next, idle.more) == ([], third.next, False)
    assert SyncPosition.of_token(third.next.token()) == third.next


async def test_updated_since_starts_a_first_sync_and_a_cursor_wins_over_it() -> None:
    uow = await stored(referral("r1"))
    assert ids(await page(uow, since=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))) == ["r1"]
    assert ids(await page(uow, since=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))) == []
    assert ids(await page(uow, after=SyncPosition(), since=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))) == ["r1"]


async def test_every_referral_shown_is_audited_and_an_empty_page_is_not() -> None:
    uow = await stored(referral("r1"), referral("r2"))
    await page(uow)
    [entry] = uow.audited
    assert (entry.subject, entry.action, entry.resource, entry.resource_ids) == ("staff-lpa", "sync", "referral",
                                                                                 ("r1", "r2"))
    await page(uow, OTHER)
    assert len(uow.audited) == 1


async def test_only_a_provider_token_for_one_provider_syncs_and_bad_requests_name_their_field() -> None:
    uow = await stored(referral("r1"))
    for by in (OFFICER, Principal("two", Role.PROVIDER, ("lpa", "other"))):
        error = await refused(uow, list_provider_referrals, ListProviderReferrals(by))
        assert (error.kind, error.field) == (ErrorKind.FORBIDDEN, "role")
    for build, field in ((lambda: ListProviderReferrals(LPA, limit=0), "limit"),
                         (lambda: ListProviderReferrals(LPA, limit=1001), "limit"),
                         (lambda: ListProviderReferrals(LPA, updated_since=dt.datetime(2026, 1, 1)), "updated_since"),
                         (lambda: SyncPosition.of_token("not-a-cursor"), "cursor"),
                         (lambda: SyncPosition.of_token("czEuMy4"), "cursor")):
        with pytest.raises(DomainError) as caught:
            build()
        assert (caught.value.kind, caught.value.field) == (ErrorKind.INVALID, field)


def details(child_id: str = "c1") -> ChildDetails:
    return ChildDetails(child_id=child_id, full_name="Siti Aminah", sex="female", birth_date=dt.date(2014, 6, 2),
                        birth_date_precision="day", village_code=KESILIR,
                        guardians=(GuardianContact("Pak Karto", "grandfather", "+62 812 0000 1111"),),
                        consent_given_on=dt.date(2026, 2, 28), as_of=AT)


async def test_a_read_gives_the_childs_minimal_details_audited_and_another_providers_referral_is_not_found() -> None:
    uow = await stored(referral("r1"), referral("r2", "other", child_id="c2"))
    async with uow:
        await uow.child_details.keep(details(), review_at=AT)
        await uow.commit()
    found = await execute(uow, read_provider_referral, ReadProviderReferral(LPA, "r1", AT.date(), "first visit"))
    assert (found.referral.referral_id, found.child) == ("r1", details())
    assert [(a.action, a.resource, a.resource_ids, a.reason) for a in uow.audited] == [
        ("read", "referral", ("r1",), "first visit"), ("read_child_details", "child", ("c1",), "first visit")]
    error = await refused(uow, read_provider_referral, ReadProviderReferral(LPA, "r2", AT.date()))
    assert (error.kind, error.field) == (ErrorKind.NOT_FOUND, "referral_id")
    without = await execute(uow, read_provider_referral, ReadProviderReferral(OTHER, "r2", AT.date()))
    assert without.child is None
    assert [a.action for a in uow.audited][-1] == "read"


def provider(provider_id: str = "lpa") -> Provider:
    built = Provider.register(provider_id=provider_id, organisation="LPA Jember", provider_type=ProviderType.NGO,
                              districts=frozenset({JEMBER}), by="officer", at=AT)
    built.events.clear()
    return built


async def test_a_provider_sets_its_own_capacity_announced_and_audited() -> None:
    uow = FakeReferralUnitOfWork()
    async with uow:
        await uow.providers.save(provider())
        await uow.commit()
    changed = await execute(uow, set_own_capacity, SetOwnCapacity(LPA, Capacity.FULL, AT))
    assert changed.capacity is Capacity.FULL
    assert (await uow.providers.get("lpa")).capacity is Capacity.FULL  # type: ignore[union-attr]
    [event] = uow.published
    assert isinstance(event, provider_wire.ProviderCapacityChangedV1)
    assert [(a.subject, a.action, a.resource_ids) for a in uow.audited] == [("staff-lpa", "set_capacity", ("lpa",))]
    for by, kind in ((OTHER, ErrorKind.NOT_FOUND), (OFFICER, ErrorKind.FORBIDDEN)):
        assert (await refused(uow, set_own_capacity, SetOwnCapacity(by, Capacity.FULL, AT))).kind is kind
