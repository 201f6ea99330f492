"""The child case lifecycle: every move, valid and invalid, with who, when and why; reopening; reclassifying."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from registry.domain.attribution import MissingAttribution
from registry.domain.case import Case, CaseChangeRefused
from registry.domain.case_events import CaseIdentified, CaseStatusChanged, ChildReclassified
from registry.domain.case_lifecycle import CaseStatus, Classification, ClosureReason, ClosureRefused, InvalidTransition

WIB = dt.timezone(dt.timedelta(hours=7))
START = dt.datetime(2025, 1, 6, 9, tzinfo=WIB)
S = CaseStatus


def later(days: int) -> dt.datetime:
    return START + dt.timedelta(days=days)


def new_case(classification: Classification = Classification.CHILD_LABOURER) -> Case:
    return Case.identify(case_id="cas_1", child_id="chd_1", classification=classification, by="kader_1", at=START,
                         reason="found topping tobacco during the baseline survey")


PATH = [S.ASSESSED, S.REMEDIATION_IN_PROGRESS, S.MONITORING, S.CLOSED]


def case_in(status: CaseStatus, classification: Classification = Classification.CHILD_LABOURER) -> Case:
    """A case walked along the main line to `status` (closed as moved), its events drained."""
    case = new_case(classification)
    steps: dict[CaseStatus, Callable[..., None]] = {
        S.ASSESSED: case.assess, S.REMEDIATION_IN_PROGRESS: case.start_remediation,
        S.MONITORING: case.start_monitoring, S.CLOSED: lambda **kw: case.close(ClosureReason.MOVED, **kw)}
    for day, step in enumerate(PATH[:PATH.index(status) + 1] if status in PATH else [], start=1):
        steps[step](by="officer_1", at=later(day), reason=f"step to {step}")
    case.events.clear()
    return case


ACTIONS: dict[str, Callable[[Case, dt.datetime], None]] = {
    "assess": lambda c, at: c.assess(by="officer_1", at=at, reason="r"),
    "start_remediation": lambda c, at: c.start_remediation(by="officer_1", at=at, reason="r"),
    "start_monitoring": lambda c, at: c.start_monitoring(by="officer_1", at=at, reason="r"),
    "close_moved": lambda c, at: c.close(ClosureReason.MOVED, by="officer_1", at=at, reason="r"),
    "reopen_monitoring": lambda c, at: c.reopen(S.MONITORING, by="officer_1", at=at, reason="r"),
    "reopen_assessed": lambda c, at: c.reopen(S.ASSESSED, by="officer_1", at=at, reason="r"),
}
TARGET = {"assess": S.ASSESSED, "start_remediation": S.REMEDIATION_IN_PROGRESS, "start_monitoring": S.MONITORING,
          "close_moved": S.CLOSED, "reopen_monitoring": S.MONITORING, "reopen_assessed": S.ASSESSED}
VALID = {
    S.IDENTIFIED: {"assess", "close_moved"},
    S.ASSESSED: {"start_remediation", "close_moved"},
    S.REMEDIATION_IN_PROGRESS: {"start_monitoring", "close_moved"},
    S.MONITORING: {"start_remediation", "close_moved"},
    S.CLOSED: {"reopen_monitoring", "reopen_assessed"},
}
MOVES = [(status, action) for status in CaseStatus for action in ACTIONS]


@pytest.mark.parametrize(("status", "action"), [m for m in MOVES if m[1] in VALID[m[0]]])
def test_every_allowed_move_records_who_when_why_and_an_event(status: CaseStatus, action: str) -> None:
    case = case_in(status)
    ACTIONS[action](case, later(10))
    change = case.status_history[-1]
    assert (case.status, change.previous, change.by, change.at, change.reason) == (
        TARGET[action], status, "officer_1", later(10), "r")
    assert case.events == [CaseStatusChanged("cas_1", status, TARGET[action], "officer_1", later(10),
                                             change.closure_reason)]


@pytest.mark.parametrize(("status", "action"), [m for m in MOVES if m[1] not in VALID[m[0]]])
def test_every_other_move_is_refused_naming_both_statuses_and_changes_nothing(status: CaseStatus,
                                                                             action: str) -> None:
    case = case_in(status)
    history = list(case.status_history)
    with pytest.raises(InvalidTransition, match=r"^status: cannot move from ") as caught:
        ACTIONS[action](case, later(10))
    assert (caught.value.current, caught.value.requested) == (status, TARGET[action])
    assert f"from {status} to {TARGET[action]}" in str(caught.value)
    assert (case.status_history, case.events) == (history, [])


def test_a_new_case_starts_identified_with_its_classification() -> None:
    case = new_case(Classification.AT_RISK)
    assert (case.status, case.classification, case.closure_reason) == (S.IDENTIFIED, Classification.AT_RISK, None)
    assert case.status_history[0].previous is None
    assert case.events == [CaseIdentified("cas_1", "chd_1", Classification.AT_RISK, "kader_1", START)]


def test_a_closed_case_keeps_its_reason_until_reopened() -> None:
    case = case_in(S.IDENTIFIED)
    case.close(ClosureReason.AGED_OUT, by="officer_1", at=later(1), reason="turned 18")
    assert (case.status, case.closure_reason) == (S.CLOSED, ClosureReason.AGED_OUT)
    case.reopen(S.ASSESSED, by="officer_2", at=later(2), reason="birth date corrected: still 16")
    assert (case.status, case.closure_reason) == (S.ASSESSED, None)
    assert [c.status for c in case.status_history] == [S.IDENTIFIED, S.CLOSED, S.ASSESSED]


@pytest.mark.parametrize("status", [S.IDENTIFIED, S.REMEDIATION_IN_PROGRESS, S.CLOSED])
def test_a_case_reopens_only_into_monitoring_or_assessed(status: CaseStatus) -> None:
    case = case_in(S.CLOSED)
    with pytest.raises(InvalidTransition, match="reopens from closed into monitoring or assessed"):
        case.reopen(status, by="officer_1", at=later(10), reason="r")


@pytest.mark.parametrize("status", [S.IDENTIFIED, S.ASSESSED, S.REMEDIATION_IN_PROGRESS])
@pytest.mark.parametrize("reason", [ClosureReason.WITHDRAWN, ClosureReason.PROTECTED])
def test_outcomes_close_a_case_only_from_monitoring(status: CaseStatus, reason: ClosureReason) -> None:
    classification = Classification.AT_RISK if reason is ClosureReason.PROTECTED else Classification.CHILD_LABOURER
    with pytest.raises(InvalidTransition, match=f"closes as {reason} only from monitoring"):
        case_in(status, classification).close(reason, by="officer_1", at=later(10), reason="r")


@pytest.mark.parametrize("status", [S.IDENTIFIED, S.ASSESSED, S.REMEDIATION_IN_PROGRESS, S.MONITORING])
@pytest.mark.parametrize("reason", [ClosureReason.MOVED, ClosureReason.AGED_OUT])
def test_moving_away_or_ageing_out_closes_a_case_at_any_open_status(status: CaseStatus,
                                                                   reason: ClosureReason) -> None:
    case = case_in(status)
    case.close(reason, by="officer_1", at=later(10), reason="r")
    assert (case.status, case.closure_reason) == (S.CLOSED, reason)


def test_protected_is_the_outcome_of_an_at_risk_child_and_withdrawn_of_a_child_labourer() -> None:
    with pytest.raises(ClosureRefused, match=r"^closure_reason: only the case of a child classified at_risk"):
        case_in(S.MONITORING).close(ClosureReason.PROTECTED, by="officer_1", at=later(10), reason="r")
    with pytest.raises(ClosureRefused, match="classified child_labourer closes as withdrawn"):
        case_in(S.MONITORING, Classification.AT_RISK).close(ClosureReason.WITHDRAWN, by="o", at=later(10), reason="r")
    case = case_in(S.MONITORING, Classification.AT_RISK)
    case.close(ClosureReason.PROTECTED, by="officer_1", at=later(10), reason="stayed in school all season")
    assert case.closure_reason is ClosureReason.PROTECTED


@pytest.mark.parametrize(("by", "at", "reason", "field"), [
    ("", later(10), "r", "by"),
    ("officer_1", later(10), "  ", "reason"),
    ("officer_1", dt.datetime(2025, 3, 1, 9), "r", "at"),
])
def test_a_move_without_who_when_or_why_is_refused(by: str, at: dt.datetime, reason: str, field: str) -> None:
    case = case_in(S.IDENTIFIED)
    with pytest.raises(MissingAttribution) as caught:
        case.assess(by=by, at=at, reason=reason)
    assert (caught.value.field, case.status) == (field, S.IDENTIFIED)


def test_a_change_dated_before_the_latest_one_is_refused_and_one_at_the_same_moment_is_not() -> None:
    case = case_in(S.ASSESSED)
    with pytest.raises(CaseChangeRefused, match=r"^at: is earlier than the case's latest change"):
        case.start_remediation(by="officer_1", at=later(0), reason="r")
    case.start_remediation(by="officer_1", at=later(1), reason="r")
    assert case.status is S.REMEDIATION_IN_PROGRESS


def test_reclassification_is_recorded_with_the_earlier_classification() -> None:
    case = case_in(S.ASSESSED, Classification.AT_RISK)
    case.reclassify(Classification.CHILD_LABOURER, by="officer_1", at=later(5), reason="works nights in the barn")
    assert case.classification is Classification.CHILD_LABOURER
    assert [(c.previous, c.classification, c.reason) for c in case.classification_history] == [
        (None, Classification.AT_RISK, "found topping tobacco during the baseline survey"),
        (Classification.AT_RISK, Classification.CHILD_LABOURER, "works nights in the barn")]
    assert case.events == [ChildReclassified("cas_1", Classification.AT_RISK, Classification.CHILD_LABOURER,
                                             "officer_1", later(5))]


def test_reclassifying_to_the_same_or_on_a_closed_case_is_refused() -> None:
    with pytest.raises(CaseChangeRefused, match="already classified child_labourer"):
        case_in(S.ASSESSED).reclassify(Classification.CHILD_LABOURER, by="o", at=later(9), reason="r")
    with pytest.raises(CaseChangeRefused, match="only after it is reopened"):
        case_in(S.CLOSED).reclassify(Classification.AT_RISK, by="o", at=later(9), reason="r")


def test_events_accumulate_in_order_until_the_service_layer_drains_them() -> None:
    case = new_case()
    case.assess(by="officer_1", at=later(1), reason="r")
    case.start_remediation(by="officer_1", at=later(2), reason="r")
    assert [type(e).__name__ for e in case.events] == ["CaseIdentified", "CaseStatusChanged", "CaseStatusChanged"]
    assert [e.status for e in case.events if isinstance(e, CaseStatusChanged)] == [
        S.ASSESSED, S.REMEDIATION_IN_PROGRESS]
