"""A child's case: the aggregate keeping the status history, the classification history and the monitoring
visits, and recording an event for every change for the service layer to drain.

Recording a visit never closes a case. When a visit completes the withdrawal rule the case records
CaseEligibleForClosure and a person decides: the rule is the minimum evidence, not the whole of it (a district
team also weighs schooling, siblings and the cadre's notes), "withdrawn" is the programme's headline figure and
must be attributable to someone, and a visit synced late from an offline app may still show the child working.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from registry.domain.attribution import require_attribution
from registry.domain.case_events import (
    CaseEligibleForClosure,
    CaseEvent,
    CaseIdentified,
    CaseStatusChanged,
    ChildReclassified,
    MonitoringVisitRecorded,
)
from registry.domain.case_lifecycle import (
    REOPEN_STATUSES,
    CaseStatus,
    Classification,
    ClosureReason,
    ClosureRefused,
    InvalidTransition,
    check_closure,
    check_move,
)
from registry.domain.closure import ClosureRule, WithdrawalAssessment, assess_withdrawal
from registry.domain.errors import RegistryConflict
from registry.domain.visits import MonitoringVisit


class CaseChangeRefused(RegistryConflict):
    """A change the case cannot take as it stands."""


@dataclass(frozen=True)
class StatusChange:
    """One entry of the status history: what, who, when, why. The first entry has no previous status."""

    status: CaseStatus
    previous: CaseStatus | None
    by: str
    at: dt.datetime
    reason: str
    closure_reason: ClosureReason | None = None


@dataclass(frozen=True)
class ClassificationChange:
    """One entry of the classification history. The first entry has no previous classification."""

    classification: Classification
    previous: Classification | None
    by: str
    at: dt.datetime
    reason: str


@dataclass
class Case:
    """A child's case. Build a new one with `Case.identify`; the constructor is for loading a stored one."""

    case_id: str
    child_id: str
    status_history: list[StatusChange]
    classification_history: list[ClassificationChange]
    visits: list[MonitoringVisit] = field(default_factory=list)
    closure_rule: ClosureRule = field(default_factory=ClosureRule)
    events: list[CaseEvent] = field(default_factory=list)

    @classmethod
    def identify(cls, *, case_id: str, child_id: str, classification: Classification, by: str, at: dt.datetime,
                 reason: str, closure_rule: ClosureRule | None = None) -> Case:
        """Open a case for a child identified as a child labourer or at risk."""
        require_attribution(by, at, reason)
        case = cls(case_id, child_id, [StatusChange(CaseStatus.IDENTIFIED, None, by, at, reason)],
                   [ClassificationChange(classification, None, by, at, reason)],
                   closure_rule=closure_rule or ClosureRule())
        case.events.append(CaseIdentified(case_id, child_id, classification, by, at))
        return case

    @property
    def status(self) -> CaseStatus:
        """The current status."""
        return self.status_history[-1].status

    @property
    def classification(self) -> Classification:
        """The current classification."""
        return self.classification_history[-1].classification

    @property
    def closure_reason(self) -> ClosureReason | None:
        """Why the case is closed; None while it is open."""
        return self.status_history[-1].closure_reason

    @property
    def monitoring_since(self) -> dt.datetime | None:
        """When the case last entered monitoring, while it is in monitoring."""
        latest = self.status_history[-1]
        return latest.at if latest.status is CaseStatus.MONITORING else None

    def assess(self, *, by: str, at: dt.datetime, reason: str) -> None:
        """Record that the child's situation was assessed."""
        self._advance(CaseStatus.ASSESSED, by, at, reason)

    def start_remediation(self, *, by: str, at: dt.datetime, reason: str) -> None:
        """Start remediation after assessment, or resume it when monitoring finds the child working again."""
        self._advance(CaseStatus.REMEDIATION_IN_PROGRESS, by, at, reason)

    def start_monitoring(self, *, by: str, at: dt.datetime, reason: str) -> None:
        """Move from remediation to monitoring; only visits from this day on count towards withdrawal."""
        self._advance(CaseStatus.MONITORING, by, at, reason)

    def close(self, closure_reason: ClosureReason, *, by: str, at: dt.datetime, reason: str) -> None:
        """Close the case; as withdrawn only when the withdrawal rule holds on the visits up to `at`."""
        check_closure(self.status, self.classification, closure_reason)
        if closure_reason is ClosureReason.WITHDRAWN:
            assessment = self.withdrawal_assessment(at.date())
            if not assessment.qualifies:
                raise ClosureRefused(f"the withdrawal rule does not hold: {assessment.explanation}")
        self._move(CaseStatus.CLOSED, by, at, reason, closure_reason)

    def reopen(self, status: CaseStatus, *, by: str, at: dt.datetime, reason: str) -> None:
        """Reopen a closed case into monitoring or assessed."""
        if self.status is not CaseStatus.CLOSED or status not in REOPEN_STATUSES:
            raise InvalidTransition(self.status, status, "a case reopens from closed into monitoring or assessed")
        self._move(status, by, at, reason)

    def reclassify(self, classification: Classification, *, by: str, at: dt.datetime, reason: str) -> None:
        """Record a changed classification of the child, keeping the earlier ones."""
        if self.status is CaseStatus.CLOSED:
            raise CaseChangeRefused("classification", "a closed case is reclassified only after it is reopened")
        if classification is self.classification:
            raise CaseChangeRefused("classification", f"the child is already classified {classification}")
        self._check_change(by, at, reason)
        previous = self.classification
        self.classification_history.append(ClassificationChange(classification, previous, by, at, reason))
        self.events.append(ChildReclassified(self.case_id, previous, classification, by, at))

    def record_visit(self, visit: MonitoringVisit) -> None:
        """Add a visit to an open case; records CaseEligibleForClosure when it completes the withdrawal rule."""
        if self.status is CaseStatus.CLOSED:
            raise CaseChangeRefused("status", "a closed case takes no visits: reopen it first")
        if any(known.visit_id == visit.visit_id for known in self.visits):
            raise CaseChangeRefused("visit_id", "is already recorded on this case")
        was_eligible = self._eligible_for_withdrawal().qualifies
        self.visits.append(visit)
        self.events.append(MonitoringVisitRecorded(self.case_id, visit.visit_id, visit.visited_on,
                                                   visit.child_working))
        now = self._eligible_for_withdrawal()
        if now.qualifies and not was_eligible:
            self.events.append(CaseEligibleForClosure(self.case_id, ClosureReason.WITHDRAWN, now.evidence))

    def withdrawal_assessment(self, as_of: dt.date) -> WithdrawalAssessment:
        """The withdrawal rule applied to the visits since the case entered monitoring, up to as_of."""
        since = self.monitoring_since
        if since is None:
            return WithdrawalAssessment(False, f"the case is {self.status}, not in monitoring")
        counted = [visit for visit in self.visits if since.date() <= visit.visited_on <= as_of]
        return assess_withdrawal(counted, self.closure_rule)

    def _eligible_for_withdrawal(self) -> WithdrawalAssessment:
        if self.classification is not Classification.CHILD_LABOURER:
            return WithdrawalAssessment(False, f"the child is classified {self.classification}")
        return self.withdrawal_assessment(dt.date.max)

    def _advance(self, status: CaseStatus, by: str, at: dt.datetime, reason: str) -> None:
        if self.status is CaseStatus.CLOSED:
            raise InvalidTransition(self.status, status, "reopen the case first")
        self._move(status, by, at, reason)

    def _move(self, status: CaseStatus, by: str, at: dt.datetime, reason: str,
              closure_reason: ClosureReason | None = None) -> None:
        check_move(self.status, status)
        self._check_change(by, at, reason)
        previous = self.status
        self.status_history.append(StatusChange(status, previous, by, at, reason, closure_reason))
        self.events.append(CaseStatusChanged(self.case_id, previous, status, by, at, closure_reason))

    def _check_change(self, by: str, at: dt.datetime, reason: str) -> None:
        require_attribution(by, at, reason)
        latest = max(self.status_history[-1].at, self.classification_history[-1].at)
        if at < latest:
            raise CaseChangeRefused("at", "is earlier than the case's latest change")


def new_case_id() -> str:
    """Opaque, unguessable case id."""
    return f"cas_{uuid.uuid4().hex}"
