"""When a child labourer counts as withdrawn: N visits without child labour, each at least D days after the one
before, with no visit in between that found the child working (defaults: 2 visits, 90 days).

"Consecutive" is read as "no visit in between found the child working". An extra visit without child labour
closer than D days to another neither counts nor resets the evidence: otherwise a cadre who looks in more often
than the rule asks would delay the child's closure, and the rule would reward visiting less.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from registry.domain.errors import RegistryError


class InvalidClosureRule(RegistryError):
    """A closure rule that cannot be applied."""


class VisitFinding(Protocol):
    """What the rule needs of a visit."""

    @property
    def visited_on(self) -> dt.date: ...

    @property
    def child_working(self) -> bool: ...


@dataclass(frozen=True)
class ClosureRule:
    """The configurable rule; the defaults are the pilot's."""

    visits_required: int = 2
    min_days_apart: int = 90

    def __post_init__(self) -> None:
        if self.visits_required < 1:
            raise InvalidClosureRule("visits_required", "must be at least 1")
        if self.min_days_apart < 1:
            raise InvalidClosureRule("min_days_apart", "must be at least 1: two visits on one day are one observation")


@dataclass(frozen=True)
class WithdrawalAssessment:
    """Whether the visits qualify, why, the visit dates counted as evidence, and from which date a further visit
    without child labour would add to the evidence (None when any visit would, or none is needed)."""

    qualifies: bool
    explanation: str
    evidence: tuple[dt.date, ...] = ()
    next_evidence_from: dt.date | None = None


def assess_withdrawal(visits: Iterable[VisitFinding], rule: ClosureRule) -> WithdrawalAssessment:
    """Apply the rule to visits in any order; of two visits on one day, one that found the child working wins."""
    ordered = sorted(visits, key=lambda visit: (visit.visited_on, visit.child_working))
    if not ordered:
        return WithdrawalAssessment(False, "no monitoring visit is recorded")
    if ordered[-1].child_working:
        return WithdrawalAssessment(False, "the latest visit found the child working")
    streak = _since_last_working(ordered)
    evidence = _spaced(streak, rule.min_days_apart)
    if len(evidence) >= rule.visits_required:
        return WithdrawalAssessment(True, _qualifying(rule), tuple(evidence))
    since = "the last visit that found the child working" if len(streak) < len(ordered) else "the first visit"
    next_from = evidence[-1] + dt.timedelta(days=rule.min_days_apart)
    return WithdrawalAssessment(False, _short(len(evidence), rule, since), tuple(evidence), next_from)


def _since_last_working(ordered: list[VisitFinding]) -> list[dt.date]:
    dates: list[dt.date] = []
    for visit in reversed(ordered):
        if visit.child_working:
            break
        dates.append(visit.visited_on)
    return dates[::-1]


def _spaced(dates: list[dt.date], min_days_apart: int) -> list[dt.date]:
    # Taking the earliest date that is far enough from the last one taken yields the longest chain.
    chain: list[dt.date] = []
    for date in dates:
        if not chain or (date - chain[-1]).days >= min_days_apart:
            chain.append(date)
    return chain


def _qualifying(rule: ClosureRule) -> str:
    return (f"{_visits(rule.visits_required)} without child labour at least {rule.min_days_apart} days apart, "
            "and no visit since the first of them found the child working")


def _short(counted: int, rule: ClosureRule, since: str) -> str:
    return (f"{counted} of the {_visits(rule.visits_required)} without child labour at least "
            f"{rule.min_days_apart} days apart that the rule requires, counted since {since}")


def _visits(count: int) -> str:
    return f"{count} visit" if count == 1 else f"{count} visits"
