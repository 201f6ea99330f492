"""What happened to a case, for the service layer to drain and map to wire contracts.

Events carry codes, ids and dates, never the free-text reasons or notes: those stay on the case, where reads are
attributable, rather than travelling to every subscriber.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from registry.domain.case_lifecycle import CaseStatus, Classification, ClosureReason


@dataclass(frozen=True)
class CaseEvent:
    """Something that happened to one case."""

    case_id: str


@dataclass(frozen=True)
class CaseIdentified(CaseEvent):
    """A child was identified as a child labourer or at risk, and a case opened."""

    child_id: str
    classification: Classification
    by: str
    at: dt.datetime


@dataclass(frozen=True)
class CaseStatusChanged(CaseEvent):
    """The case moved from one status to another; closure_reason is set when it closed."""

    previous: CaseStatus
    status: CaseStatus
    by: str
    at: dt.datetime
    closure_reason: ClosureReason | None = None


@dataclass(frozen=True)
class ChildReclassified(CaseEvent):
    """The child's classification changed."""

    previous: Classification
    classification: Classification
    by: str
    at: dt.datetime


@dataclass(frozen=True)
class MonitoringVisitRecorded(CaseEvent):
    """A monitoring visit was recorded on the case."""

    visit_id: str
    visited_on: dt.date
    child_working: bool


@dataclass(frozen=True)
class CaseEligibleForClosure(CaseEvent):
    """The visits now satisfy the withdrawal rule; a person decides whether to close."""

    closure_reason: ClosureReason
    evidence: tuple[dt.date, ...]
