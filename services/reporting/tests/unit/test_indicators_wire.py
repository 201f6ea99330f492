"""Nothing lost on the way in: every event type of the topics reporting counts has a handler (a type the contracts
know and reporting does not handle would be skipped as another consumer's business), and every one maps to a fact
with the event's id and time."""

from __future__ import annotations

import datetime as dt

from reporting.adapters.contract_mapping import PROVIDER_STEPS, REFERRAL_STEPS, child_event, provider_event
from reporting.domain.facts import ChildEventKind, ProviderStep
from reporting.entrypoints.consumers.registry_children import EVENTS as CHILD_EVENTS
from reporting.entrypoints.consumers.registry_children import NOT_COUNTED
from simpul_contracts import event_types
from simpul_contracts.events import MonitoringVisitRecordedV1
from simpul_contracts.events.common import Sex
from simpul_contracts.events.referral.providers import ProviderRescoredV1, VettingRecommendation
from simpul_contracts.events.registry import CaseStatus, Classification, SchoolStatus

COUNTED = {"registry.child.v1": set(CHILD_EVENTS), "referral.referral.v1": set(REFERRAL_STEPS),
           "referral.provider.v1": set(PROVIDER_STEPS)}


def test_every_event_type_of_the_counted_topics_has_a_handler() -> None:
    for topic, handled in COUNTED.items():
        on_topic = {model for model in event_types().values() if model.topic == topic}
        decided = handled | {model for model in NOT_COUNTED if model.topic == topic}
        missing = sorted(m.__name__ for m in on_topic - decided)
        assert on_topic == decided, f"{topic}: neither handled nor skipped on purpose {missing}"


def test_a_visit_is_kept_on_its_day_with_what_the_visitor_found() -> None:
    visit = MonitoringVisitRecordedV1(
        child_id="c1", person_id="p1", sex=Sex.FEMALE, birth_year=2014, village_code="35.09.11.2007", case_id="k1",
        classification=Classification.CHILD_LABOURER, status=CaseStatus.MONITORING, visit_id="v1",
        visited_on=dt.date(2026, 6, 1), visited_by="kader", child_working=False, school_status=SchoolStatus.ENROLLED)
    envelope = visit.envelope()
    fact = child_event(visit, envelope)
    assert (fact.event_id, fact.stamp, fact.kind) == (envelope.id, envelope.time, ChildEventKind.VISITED)
    assert (fact.occurred_at, fact.child_working) == (dt.datetime(2026, 6, 1, tzinfo=dt.UTC), False)


def test_a_rescoring_is_kept_as_the_providers_latest_vetting() -> None:
    rescored = ProviderRescoredV1(provider_id="prov", recorded_by="referral:rescoring",
                                  recorded_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), vetting_id="v1",
                                  on=dt.date(2026, 6, 1), previous_total=9, total=5,
                                  recommendation=VettingRecommendation.NOT_RECOMMENDED)
    fact = provider_event(rescored, rescored.envelope())
    assert (fact.step, fact.recommendation) == (ProviderStep.VETTED, "not_recommended")
