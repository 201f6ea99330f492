"""The withdrawal rule (N visits without child labour, at least D days apart) on its own and inside a case."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.domain.case import Case, CaseChangeRefused
from registry.domain.case_events import CaseEligibleForClosure, MonitoringVisitRecorded
from registry.domain.case_lifecycle import CaseStatus, Classification, ClosureReason, ClosureRefused
from registry.domain.closure import ClosureRule, InvalidClosureRule, assess_withdrawal
from registry.domain.visits import MonitoringVisit, Schooling, SchoolStatus, WorkSector

DAY0 = dt.date(2025, 1, 6)
RULE = ClosureRule()


@dataclass(frozen=True)
class Finding:
    visited_on: dt.date
    child_working: bool = False


def on(*days: int, working: tuple[int, ...] = ()) -> list[Finding]:
    return [Finding(DAY0 + dt.timedelta(days=d), d in working) for d in days]


def test_the_defaults_are_two_visits_90_days_apart() -> None:
    assert (RULE.visits_required, RULE.min_days_apart) == (2, 90)


def test_two_visits_exactly_90_days_apart_qualify() -> None:
    result = assess_withdrawal(on(0, 90), RULE)
    assert (result.qualifies, result.evidence) == (True, (DAY0, DAY0 + dt.timedelta(days=90)))
    assert result.explanation.startswith("2 visits without child labour at least 90 days apart")


def test_a_day_short_of_90_does_not_and_says_when_the_next_visit_counts() -> None:
    result = assess_withdrawal(on(0, 89), RULE)
    assert not result.qualifies
    assert result.explanation == ("1 of the 2 visits without child labour at least 90 days apart that the rule "
                                  "requires, counted since the first visit")
    assert result.next_evidence_from == DAY0 + dt.timedelta(days=90)


def test_one_visit_fewer_than_required_does_not_qualify() -> None:
    assert not assess_withdrawal(on(0, 90), ClosureRule(visits_required=3)).qualifies
    assert assess_withdrawal(on(0, 90, 180), ClosureRule(visits_required=3)).qualifies
    assert assess_withdrawal(on(0), ClosureRule(visits_required=1)).qualifies


def test_no_visit_does_not_qualify() -> None:
    result = assess_withdrawal([], RULE)
    assert (result.qualifies, result.explanation) == (False, "no monitoring visit is recorded")


def test_a_visit_finding_the_child_working_resets_the_evidence() -> None:
    assert not assess_withdrawal(on(0, 90, 180, working=(180,)), RULE).qualifies
    result = assess_withdrawal(on(0, 90, 180, 200, working=(90,)), RULE)
    assert (result.qualifies, result.evidence) == (False, (DAY0 + dt.timedelta(days=180),))
    assert result.explanation.endswith("counted since the last visit that found the child working")
    assert assess_withdrawal(on(0, 90, 180, 270, working=(90,)), RULE).qualifies


def test_the_latest_visit_finding_the_child_working_is_named() -> None:
    result = assess_withdrawal(on(0, 90, 180, working=(180,)), RULE)
    assert (result.explanation, result.next_evidence_from) == ("the latest visit found the child working", None)


def test_visits_are_taken_in_date_order_whatever_the_input_order() -> None:
    assert assess_withdrawal(on(180, 0, 90, working=(0,)), RULE).qualifies
    assert not assess_withdrawal(on(180, 0, 90, working=(180,)), RULE).qualifies


def test_on_a_day_with_two_visits_the_one_finding_the_child_working_wins() -> None:
    visits = [*on(0, 90), Finding(DAY0 + dt.timedelta(days=90), child_working=True)]
    assert not assess_withdrawal(visits, RULE).qualifies
    assert not assess_withdrawal(visits[::-1], RULE).qualifies


def test_an_extra_visit_in_between_neither_counts_nor_resets_the_evidence() -> None:
    result = assess_withdrawal(on(0, 30, 90), RULE)
    assert (result.qualifies, result.evidence) == (True, (DAY0, DAY0 + dt.timedelta(days=90)))


@pytest.mark.parametrize(("visits_required", "min_days_apart", "field"), [(0, 90, "visits_required"),
                                                                          (2, 0, "min_days_apart")])
def test_a_rule_that_cannot_be_applied_is_refused(visits_required: int, min_days_apart: int, field: str) -> None:
    with pytest.raises(InvalidClosureRule, match=rf"^{field}: must be at least 1"):
        ClosureRule(visits_required, min_days_apart)


findings = st.lists(st.builds(Finding, st.dates(DAY0, DAY0 + dt.timedelta(days=1000)), st.booleans()), max_size=8)
rules = st.builds(ClosureRule, st.integers(1, 4), st.integers(1, 200))


@given(findings, rules, st.integers(0, 400))
def test_a_visit_finding_the_child_working_at_the_end_never_makes_a_case_eligible(
        visits: list[Finding], rule: ClosureRule, days_after: int) -> None:
    last = max((v.visited_on for v in visits), default=DAY0)
    working = Finding(last + dt.timedelta(days=days_after), child_working=True)
    assert not assess_withdrawal([*visits, working], rule).qualifies


@given(findings, rules, st.randoms(use_true_random=False))
def test_the_order_of_the_visits_never_matters(visits: list[Finding], rule: ClosureRule, rng: random.Random) -> None:
    shuffled = list(visits)
    rng.shuffle(shuffled)
    assert assess_withdrawal(shuffled, rule) == assess_withdrawal(visits, rule)


@given(findings, rules, st.integers(0, 400))
def test_a_later_visit_without_child_labour_never_undoes_eligibility(
        visits: list[Finding], rule: ClosureRule, days_after: int) -> None:
    if not assess_withdrawal(visits, rule).qualifies:
        return
    later = Finding(max(v.visited_on for v in visits) + dt.timedelta(days=days_after))
    assert assess_withdrawal([*visits, later], rule).qualifies


WIB = dt.timezone(dt.timedelta(hours=7))
MONITORING_FROM = dt.datetime(2025, 1, 6, 9, tzinfo=WIB)


def visit(days: int, working: bool = False, visit_id: str | None = None) -> MonitoringVisit:
    return MonitoringVisit(
        visit_id=visit_id or f"vis_{days}", visited_on=DAY0 + dt.timedelta(days=days), visitor="kader_1",
        child_working=working, schooling=Schooling(SchoolStatus.ENROLLED, grade=5),
        sectors=frozenset({WorkSector.TOBACCO}) if working else frozenset())


def monitored_case(classification: Classification = Classification.CHILD_LABOURER,
                   rule: ClosureRule | None = None) -> Case:
    start = MONITORING_FROM - dt.timedelta(days=60)
    case = Case.identify(case_id="cas_1", child_id="chd_1", classification=classification, by="kader_1",
                         at=start, reason="baseline", closure_rule=rule)
    case.assess(by="officer_1", at=start + dt.timedelta(days=1), reason="assessed at home")
    case.start_remediation(by="officer_1", at=start + dt.timedelta(days=2), reason="school re-entry")
    case.start_monitoring(by="officer_1", at=MONITORING_FROM, reason="back in school")
    case.events.clear()
    return case


def close_withdrawn(case: Case, days: int) -> None:
    case.close(ClosureReason.WITHDRAWN, by="officer_1", at=MONITORING_FROM + dt.timedelta(days=days), reason="r")


def test_closing_as_withdrawn_is_refused_until_the_rule_holds_and_says_why() -> None:
    case = monitored_case()
    case.record_visit(visit(0))
    with pytest.raises(ClosureRefused, match=r"^closure_reason: the withdrawal rule does not hold: 1 of the 2 visits"):
        close_withdrawn(case, 10)
    case.record_visit(visit(90))
    close_withdrawn(case, 91)
    assert (case.status, case.closure_reason) == (CaseStatus.CLOSED, ClosureReason.WITHDRAWN)


def test_only_visits_since_monitoring_began_and_up_to_the_closure_count() -> None:
    case = monitored_case()
    for days in (-30, 60, 150):
        case.record_visit(visit(days))
    with pytest.raises(ClosureRefused):
        close_withdrawn(case, 149)
    close_withdrawn(case, 150)


def test_the_visit_completing_the_rule_makes_the_case_eligible_once_and_never_closes_it() -> None:
    case = monitored_case()
    case.record_visit(visit(0))
    case.record_visit(visit(90))
    case.record_visit(visit(200))
    eligible = [e for e in case.events if isinstance(e, CaseEligibleForClosure)]
    assert eligible == [CaseEligibleForClosure("cas_1", ClosureReason.WITHDRAWN,
                                               (DAY0, DAY0 + dt.timedelta(days=90)))]
    assert [type(e) for e in case.events] == [MonitoringVisitRecorded, MonitoringVisitRecorded,
                                              CaseEligibleForClosure, MonitoringVisitRecorded]
    assert case.status is CaseStatus.MONITORING


def test_eligibility_lost_to_a_working_visit_is_announced_again_when_regained() -> None:
    case = monitored_case()
    for days, working in ((0, False), (90, False), (120, True), (130, False), (220, False)):
        case.record_visit(visit(days, working))
    assert sum(isinstance(e, CaseEligibleForClosure) for e in case.events) == 2
    with pytest.raises(ClosureRefused):
        close_withdrawn(case, 219)


def test_no_eligibility_outside_monitoring_or_for_an_at_risk_child() -> None:
    at_risk = monitored_case(Classification.AT_RISK)
    at_risk.record_visit(visit(0))
    at_risk.record_visit(visit(90))
    case = monitored_case()
    case.start_remediation(by="officer_1", at=MONITORING_FROM + dt.timedelta(days=1), reason="found working")
    case.record_visit(visit(0))
    case.record_visit(visit(90))
    for events in (at_risk.events, case.events):
        assert not any(isinstance(e, CaseEligibleForClosure) for e in events)
    assert case.withdrawal_assessment(DAY0 + dt.timedelta(days=90)).explanation == (
        "the case is remediation_in_progress, not in monitoring")


def test_a_case_reopened_into_monitoring_needs_fresh_visits() -> None:
    case = monitored_case()
    case.record_visit(visit(0))
    case.record_visit(visit(90))
    close_withdrawn(case, 91)
    case.reopen(CaseStatus.MONITORING, by="officer_2", at=MONITORING_FROM + dt.timedelta(days=100),
                reason="seen in the drying shed")
    with pytest.raises(ClosureRefused):
        close_withdrawn(case, 101)


def test_a_configured_rule_applies_to_the_case() -> None:
    case = monitored_case(rule=ClosureRule(visits_required=3, min_days_apart=30))
    for days in (0, 30, 60):
        case.record_visit(visit(days))
    close_withdrawn(case, 60)
    assert case.closure_reason is ClosureReason.WITHDRAWN


def test_a_closed_case_takes_no_visit_and_a_visit_is_recorded_once() -> None:
    case = monitored_case()
    case.record_visit(visit(0))
    with pytest.raises(CaseChangeRefused, match=r"^visit_id: is already recorded"):
        case.record_visit(visit(5, visit_id="vis_0"))
    case.close(ClosureReason.MOVED, by="officer_1", at=MONITORING_FROM + dt.timedelta(days=1), reason="to Bali")
    with pytest.raises(CaseChangeRefused, match="reopen it first"):
        case.record_visit(visit(10))
    assert len(case.visits) == 1
