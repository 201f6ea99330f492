"""The protected feed against the fake: who sees which level, what the aggregate topic carries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from reporting.domain.cells import RegionLevel
from reporting.domain.feed import ProtectedCell, Protection
from reporting.domain.feed_commands import FeedReader, ProtectedFeed, PublishFeed
from reporting.entrypoints.consumers.registry_children import child_events
from reporting.service_layer.fake import FakeReportingUnitOfWork
from reporting.service_layer.feed_handlers import protected_feed, publish_feed
from simpul_contracts.event import DataClass
from simpul_contracts.events import ChildRegisteredV1
from simpul_contracts.events.common import Sex as WireSex
from simpul_contracts.events.reporting import IndicatorPublishedV1
from simpul_platform.delivery import Delivery
from simpul_platform.unit_of_work import execute

KESILIR, WRINGINTELU, SELELOS = "35.09.11.2007", "35.09.08.2005", "52.08.02.2006"
NOW = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
PROTECTION = Protection(b"unit test key")


def registered(child: str, village: str, sex: WireSex, month: int) -> ChildRegisteredV1:
    return ChildRegisteredV1(child_id=child, person_id=f"p-{child}", sex=sex, birth_year=2014, village_code=village,
                             case_id=None, classification=None, status=None,
                             registered_at=dt.datetime(2026, month, 3, 9, tzinfo=dt.UTC))


async def service(publish: bool = True) -> FakeReportingUnitOfWork:
    """12 children in Kesilir, 3 in Wringintelu (a small village), 9 in Selelos (another district)."""
    uow = FakeReportingUnitOfWork()
    events = [registered(f"k{n}", KESILIR, (WireSex.FEMALE, WireSex.MALE)[n % 2], 1 + n % 2) for n in range(12)]
    events += [registered(f"w{n}", WRINGINTELU, WireSex.FEMALE, 1) for n in range(3)]
    events += [registered(f"s{n}", SELELOS, WireSex.MALE, 2) for n in range(9)]
    async with uow:
        deliveries = await uow.claim("registry.child.v1", [Delivery(None, e.envelope(), e) for e in events])  # type: ignore[arg-type]
        await child_events(uow, deliveries)
        await uow.commit()
    if publish:
        await execute(uow, publish_feed, PublishFeed("pub-1", NOW, PROTECTION, slot="202603"))
    return uow


async def read(uow: FakeReportingUnitOfWork, reader: FeedReader) -> Sequence[ProtectedCell]:
    return await execute(uow, protected_feed, ProtectedFeed(reader))


async def test_the_ministry_sees_district_level_and_above_only() -> None:
    cells = await read(await service(), FeedReader(ministry=True))
    assert cells
    assert {c.key.region_level for c in cells} == {RegionLevel.KABUPATEN, RegionLevel.PROVINCE, RegionLevel.NATIONAL}
    assert {c.key.region_code for c in cells if c.key.region_level is RegionLevel.KABUPATEN} == {"35.09", "52.08"}


async def test_a_district_officer_sees_every_level_of_their_district_only() -> None:
    cells = await read(await service(), FeedReader(ministry=False, regions=("35.09",)))
    villages = {c.key.region_code for c in cells if c.key.region_level is RegionLevel.VILLAGE}
    assert villages == {KESILIR, WRINGINTELU}
    assert all(c.key.region_code.startswith("35.09") for c in cells)


async def test_a_small_village_is_withheld_and_every_reader_gets_the_same_numbers() -> None:
    uow = await service()
    district = await read(uow, FeedReader(ministry=False, regions=("35.09",)))
    ministry = await read(uow, FeedReader(ministry=True))
    registered_all = [c for c in district if c.key.indicator == "registered" and c.key.region_code == WRINGINTELU
                      and c.key.sex == "all" and c.key.age_band == "all" and c.key.period == "cumulative"]
    assert [c.value for c in registered_all] == [None]
    shared = {c.key: c.value for c in district} & {c.key: c.value for c in ministry}.keys()
    ministry_values = {c.key: c.value for c in ministry}
    assert shared
    assert all({c.key: c.value for c in district}[key] == ministry_values[key] for key in shared)


async def test_publishing_puts_aggregate_events_of_district_level_and_above_on_the_outbox() -> None:
    uow = await service(publish=False)
    assert await read(uow, FeedReader(ministry=True)) == []
    count = await execute(uow, publish_feed, PublishFeed("pub-1", NOW, PROTECTION, slot="202603"))
    events = [e for e in uow.published if isinstance(e, IndicatorPublishedV1)]
    assert count == len(events) > 0
    assert all(e.data_class is DataClass.AGGREGATE and e.topic == "reporting.feed.v1" for e in events)
    assert {e.region_level.value for e in events} <= {"kabupaten", "province", "national"}
    ministry = {(c.key.indicator, c.key.region_code, c.key.period, c.key.sex.value, c.key.age_band.value): c.value
                for c in await read(uow, FeedReader(ministry=True))}
    on_topic = {(e.indicator, e.region_code, e.period, e.sex.value, e.age_band.value): e.value for e in events}
    assert on_topic == ministry
    assert all(value is None or value == 0 or value >= 5 for value in on_topic.values())


async def test_a_month_is_published_once_and_an_on_demand_publication_is_audited_against_it() -> None:
    uow = await service()
    before = len(uow.published)
    assert await execute(uow, publish_feed, PublishFeed("pub-2", NOW, PROTECTION, slot="202603")) == 0
    assert len(uow.published) == before
    first = {c.key: c.value for c in await read(uow, FeedReader(ministry=False, regions=("35", "52")))}
    async with uow:
        more = [registered(f"x{n}", KESILIR, WireSex.FEMALE, 3) for n in range(2)]
        deliveries = await uow.claim("registry.child.v1", [Delivery(None, e.envelope(), e) for e in more])  # type: ignore[arg-type]
        await child_events(uow, deliveries)
        await uow.commit()
    assert await execute(uow, publish_feed, PublishFeed("pub-3", NOW, PROTECTION, slot="pub-3")) > 0
    second = {c.key: c.value for c in await read(uow, FeedReader(ministry=False, regions=("35", "52")))}
    assert first != second
    ledger = await uow.feed_ledger.entries()
    kesilir = next(key for key in ledger if key.indicator == "registered" and key.region_code == KESILIR
                   and key.period == "cumulative" and key.sex == "all" and key.age_band == "all")
    assert ledger[kesilir].true_value == 14
    assert {key: entry.published for key, entry in ledger.items() if key in second} == second


async def test_nothing_is_kept_when_the_publication_is_not_committed() -> None:
    uow = await service(publish=False)
    async with uow:
        await publish_feed(PublishFeed("pub-1", NOW, PROTECTION, slot="202603"), uow)
    assert await read(uow, FeedReader(ministry=True)) == []
    assert not [e for e in uow.published if isinstance(e, IndicatorPublishedV1)]
