"""Response deadlines with a controlled clock: overdue, escalated, expired, each exactly once."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referral.domain import events as ev
from referral.domain.deadlines import (
    DeadlineKind,
    DeadlinePolicies,
    DeadlinePolicy,
    due,
    fire,
    fire_due,
    next_due_at,
    schedule,
)
from referral.domain.errors import Invalid
from referral.domain.lifecycle import ReferralStatus
from referral.domain.referrals import Referral

DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)
DEFAULTS = DeadlinePolicies()


def kinds(referral: Referral, now: dt.datetime) -> list[DeadlineKind]:
    return [deadline.kind for deadline in due(referral, DEFAULTS, now)]


def test_the_default_deadlines_are_3_7_and_14_days_from_the_issue(issued: Referral) -> None:
    assert [(d.deadline_id, d.due_at - issued.issued_at) for d in schedule(issued, DEFAULTS)] == [
        ("r1/acknowledge", 3 * DAY), ("r1/answer", 7 * DAY), ("r1/escalation", 7 * DAY), ("r1/expiry", 14 * DAY)]


def test_nothing_is_due_before_a_deadline_and_it_is_due_on_the_dot(issued: Referral) -> None:
    assert kinds(issued, issued.issued_at + 3 * DAY - SECOND) == []
    assert kinds(issued, issued.issued_at + 3 * DAY) == [DeadlineKind.ACKNOWLEDGE]


def test_an_unanswered_referral_is_overdue_then_escalated_then_expired_each_once(issued: Referral) -> None:
    start = issued.issued_at
    fired = [fire_due(issued, DEFAULTS, start + days * DAY) for days in (3, 3, 7, 8, 14, 15)]
    assert [[deadline.kind for deadline in batch] for batch in fired] == [
        [DeadlineKind.ACKNOWLEDGE], [], [DeadlineKind.ANSWER, DeadlineKind.ESCALATION], [], [DeadlineKind.EXPIRY],
        []]
    assert issued.status is ReferralStatus.EXPIRED
    assert [type(event) for event in issued.events] == [ev.ReferralOverdue, ev.ReferralOverdue, ev.ReferralEscalated,
                                                        ev.ReferralExpired]
    overdue = issued.events[0]
    assert isinstance(overdue, ev.ReferralOverdue)
    assert (overdue.deadline_id, overdue.step, overdue.due_at) == ("r1/acknowledge", "acknowledge", start + 3 * DAY)


def test_a_scheduler_that_was_down_fires_every_missed_deadline_in_order(issued: Referral) -> None:
    fired = fire_due(issued, DEFAULTS, issued.issued_at + 20 * DAY)
    assert [d.kind for d in fired] == [DeadlineKind.ACKNOWLEDGE, DeadlineKind.ANSWER, DeadlineKind.ESCALATION,
                                       DeadlineKind.EXPIRY]
    assert issued.fired_deadlines == {d.deadline_id for d in fired}


def test_a_second_replica_firing_the_same_deadline_does_nothing(issued: Referral) -> None:
    [deadline] = due(issued, DEFAULTS, issued.issued_at + 3 * DAY)
    assert fire(issued, deadline, issued.issued_at + 3 * DAY)
    assert not fire(issued, deadline, issued.issued_at + 3 * DAY + SECOND)
    assert len(issued.events) == 1


def test_an_acknowledged_referral_is_no_longer_overdue_for_acknowledgement(issued: Referral) -> None:
    issued.acknowledge("provider-staff", issued.issued_at + DAY)
    assert kinds(issued, issued.issued_at + 7 * DAY) == [DeadlineKind.ANSWER, DeadlineKind.ESCALATION]


def test_an_answered_referral_has_no_deadline_left(issued: Referral) -> None:
    issued.acknowledge("provider-staff", issued.issued_at + DAY)
    issued.accept("provider-staff", issued.issued_at + 2 * DAY)
    assert kinds(issued, issued.issued_at + 30 * DAY) == []
    assert next_due_at(issued, DEFAULTS) is None


def test_a_deadline_due_when_seen_but_answered_before_firing_does_not_fire(issued: Referral) -> None:
    [deadline] = due(issued, DEFAULTS, issued.issued_at + 3 * DAY)
    issued.acknowledge("provider-staff", issued.issued_at + 3 * DAY)
    assert not fire(issued, deadline, issued.issued_at + 3 * DAY + SECOND)


def test_the_next_look_is_at_the_next_deadline_still_open(issued: Referral) -> None:
    assert next_due_at(issued, DEFAULTS) == issued.issued_at + 3 * DAY
    fire_due(issued, DEFAULTS, issued.issued_at + 3 * DAY)
    assert next_due_at(issued, DEFAULTS) == issued.issued_at + 7 * DAY


def test_deadlines_are_per_service_type_and_the_strictest_wins(issued: Referral) -> None:
    urgent = DeadlinePolicy(dt.timedelta(days=1), dt.timedelta(days=2), dt.timedelta(days=20))
    policies = DeadlinePolicies(by_service_type={"child.school_re_entry": urgent, "child.health": DeadlinePolicy()})
    assert policies.for_service_types(["child.school_re_entry", "child.health"]) == DeadlinePolicy(
        dt.timedelta(days=1), dt.timedelta(days=2), dt.timedelta(days=14))
    assert policies.for_service_types(["child.legal_aid"]) == DeadlinePolicy()
    assert [d.due_at - issued.issued_at for d in schedule(issued, policies)] == [DAY, 2 * DAY, 2 * DAY, 20 * DAY]


@pytest.mark.parametrize("days", [(0, 7, 14), (3, 2, 14), (3, 7, 6)])
def test_a_policy_out_of_order_is_refused(days: tuple[int, int, int]) -> None:
    with pytest.raises(Invalid):
        DeadlinePolicy(*(dt.timedelta(days=n) for n in days))


def test_now_needs_a_time_zone(issued: Referral) -> None:
    with pytest.raises(Invalid):
        due(issued, DEFAULTS, dt.datetime(2026, 4, 1))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hours=st.lists(st.integers(min_value=0, max_value=20 * 24), max_size=12))
def test_however_often_a_scheduler_looks_each_deadline_fires_once_and_in_order(issued: Referral,
                                                                               hours: list[int]) -> None:
    referral = copy.deepcopy(issued)  # the fixture is a template: each example starts from the same referral
    fired = [d.deadline_id for hour in sorted(hours)
             for d in fire_due(referral, DEFAULTS, referral.issued_at + dt.timedelta(hours=hour))]
    assert len(fired) == len(set(fired))
    last = referral.issued_at + dt.timedelta(hours=max(hours, default=0))
    assert fired == [d.deadline_id for d in schedule(referral, DEFAULTS) if d.due_at <= last]
