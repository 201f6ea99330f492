"""Reporting's indicators from the pilot scenario (tests/support/reporting_pilot.py): on the fake, then through the
real broker into PostgreSQL, read over HTTP. The counts match the hand-computed figures after the merge and at the
end, and so do a shuffled run with redeliveries; unknown event types and versions go to the DLQ."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Callable, Sequence
from typing import Any

from reporting.domain.indicator_commands import IndicatorCells
from reporting.entrypoints.consumers.identity_persons import person_changes
from reporting.entrypoints.consumers.referral_providers import provider_events
from reporting.entrypoints.consumers.referral_referrals import referral_events
from reporting.entrypoints.consumers.registry_children import child_events
from reporting.service_layer.fake import FakeReportingUnitOfWork
from reporting.service_layer.indicator_handlers import indicator_cells
from simpul_contracts.events import ChildRegisteredV1
from simpul_contracts.events.common import Sex
from simpul_platform.auth import Role
from simpul_platform.dead_letter_tools import read_dead_letters
from simpul_platform.delivery import Delivery
from simpul_platform.unit_of_work import execute
from tests.conftest import fresh_namespace
from tests.support.reporting_pilot import AFTER_MERGE, AS_OF, FINAL, TIMELINESS, Sent, pilot, publish_all
from tests.support.reporting_service import MINISTRY, Figures, applied, http_figures, reporting, run_phases
from tests.support.stack import eventually, token

HANDLERS: dict[str, Any] = {"registry.child.v1": child_events, "identity.person.v1": person_changes,
                            "referral.referral.v1": referral_events, "referral.provider.v1": provider_events}


async def _apply_to_fake(uow: FakeReportingUnitOfWork, sent: Sequence[Sent]) -> None:
    async with uow:
        for event, envelope in sent:
            fresh = await uow.claim(event.topic, [Delivery(None, envelope, event)])  # type: ignore[arg-type]
            if fresh:
                await HANDLERS[event.topic](uow, fresh)
        await uow.commit()


async def _fake_figures(uow: FakeReportingUnitOfWork, expected: Figures) -> Figures:
    cells = await execute(uow, indicator_cells, IndicatorCells(AS_OF.date()))
    found = {(c.indicator, c.region_code, c.sex.value, c.age_band.value, c.period): c.value for c in cells}
    return {key: found.get(key, 0) for key in expected}


def _shuffled_with_redeliveries(sent: list[Sent], seed: int) -> list[Sent]:
    rng = random.Random(seed)
    again = sent + rng.sample(sent, len(sent) // 3)
    rng.shuffle(again)
    return again


async def test_the_pilot_scenario_on_the_fake_matches_the_hand_computed_figures() -> None:
    first, second = pilot()
    uow = FakeReportingUnitOfWork()
    await _apply_to_fake(uow, first)
    assert await _fake_figures(uow, AFTER_MERGE) == AFTER_MERGE
    await _apply_to_fake(uow, second)
    assert await _fake_figures(uow, FINAL) == FINAL
    for seed in (1, 2):
        shuffled = FakeReportingUnitOfWork()
        await _apply_to_fake(shuffled, _shuffled_with_redeliveries(first + second, seed))
        assert await _fake_figures(shuffled, FINAL) == FINAL


async def test_the_pilot_scenario_through_the_broker_matches_the_hand_computed_figures(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    first, second = pilot()
    await run_phases(make_database("reporting"), kafka_bootstrap, namespace, [(first, AFTER_MERGE), (second, FINAL)])


async def test_a_shuffled_run_with_redeliveries_gives_the_same_figures(
    make_database: Callable[..., str], kafka_bootstrap: str
) -> None:
    first, second = pilot()
    shuffled = _shuffled_with_redeliveries(first + second, seed=12)
    assert len(shuffled) > len(first + second)
    await run_phases(make_database("reporting"), kafka_bootstrap, await fresh_namespace(kafka_bootstrap),
               [(shuffled, FINAL)])


async def test_the_indicators_answer_carries_targets_shares_and_the_referral_timeliness(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    first, second = pilot()
    url = make_database("reporting")
    await run_phases(url, kafka_bootstrap, namespace, [(first + second, FINAL)])
    async with reporting(url, kafka_bootstrap, namespace) as (_, client):
        national = (await client.get("/indicators", headers=MINISTRY)).json()
        margins = {f["indicator"]: f for f in national["figures"] if f["region_code"] == "ID" and f["sex"] == "all"
                   and f["age_band"] == "all"}
        assert (margins["withdrawn"]["target"], margins["withdrawn"]["progress"]) == (160, 0.025)
        assert (margins["protected"]["target"], margins["registered"]["target"]) == (1600, 1760)
        assert margins["providers_with_agreement_in_force"]["target"] == 30
        shares = {s["share"]: (s["numerator"], s["denominator"]) for s in national["shares"]}
        assert shares == {"identified_with_service": (4, 18), "no_longer_in_child_labour_at_follow_up": (2, 4),
                          "monitoring_coverage_90_days": (4, 9)}
        assert {t["step"]: (t["referrals"], t["median_days"], t["p90_days"])
                for t in national["referral_timeliness"]} == TIMELINESS
        assert not [f for f in national["figures"] if f["region_level"] in ("village", "kecamatan")]
        village = await client.get("/indicators", params={"region": "35.09.11.2007"}, headers=MINISTRY)
        assert village.status_code == 403
        assert "region" in village.text
        jember_officer = token(Role.DISTRICT_OFFICER, "35.09")
        other = await client.get("/indicators", params={"region": "52.03"}, headers=jember_officer)
        assert other.status_code == 403
        assert "region" in other.text
        jember = (await client.get("/indicators", params={"region": "35.09"}, headers=jember_officer)).json()
        assert {row["provider_id"] for row in jember["referral_funnel"]} == {"PR-JEM", "PR-JEM2"}
        assert {f["region_code"] for f in jember["figures"]} <= {"35.09", "35.09.11", "35.09.08", "35.09.27",
                                                                  "35.09.11.2007", "35.09.08.2005", "35.09.27.2002",
                                                                  "35.09.27.2003"}


async def test_unknown_event_types_and_versions_go_to_the_dlq_and_the_rest_isapplied(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("reporting")
    child = {"child_id": "X1", "person_id": "P-X1", "sex": Sex.MALE, "birth_year": 2015,
             "village_code": "35.09.11.2007", "case_id": None, "classification": None, "status": None}
    good = ChildRegisteredV1(**child, registered_at=AS_OF)
    unknown_version = dataclasses.replace(good.envelope(), type="simpul.registry.child-registered.v2")
    unknown_type = dataclasses.replace(good.envelope(), type="simpul.registry.child-adopted.v1")
    async with reporting(url, kafka_bootstrap, namespace) as (_, client):
        await publish_all(kafka_bootstrap, namespace, [(good, unknown_version), (good, unknown_type),
                                                       (good, good.envelope())])
        topic = namespace + good.topic
        letters = await eventually(lambda: _letters(kafka_bootstrap, topic, 2))
        assert sorted(letter.headers["ce_type"] for letter in letters) == [
            "simpul.registry.child-adopted.v1", "simpul.registry.child-registered.v2"]
        assert all(letter.headers["dlq_error_type"] == "ContractError" for letter in letters)
        await eventually(lambda: applied(url, 1))
        figures = await http_figures(client, {("registered", "35.09.11.2007", "all", "all", "cumulative"): 1})
        assert figures == {("registered", "35.09.11.2007", "all", "all", "cumulative"): 1}
        await asyncio.sleep(1)
        assert len(await read_dead_letters(kafka_bootstrap, topic)) == 2


async def _letters(bootstrap: str, topic: str, count: int) -> list[Any] | None:
    letters = await read_dead_letters(bootstrap, topic)
    return letters if len(letters) >= count else None
