"""The child case lifecycle: its statuses and which moves between them the programme allows.

identified -> assessed -> remediation_in_progress -> monitoring -> closed, and reopenable into monitoring or
assessed. Two moves beyond the main line:
- monitoring -> remediation_in_progress, when monitoring finds the child working again: remediation resumes
  without closing and reopening a case that never ended;
- any open status -> closed as moved or aged out, because a family leaves or a child turns 18 whatever the
  case's stage. Withdrawn and protected are outcomes, so they close only from monitoring, withdrawn only a
  child labourer's case and protected only an at-risk child's: the two are separate targets of the programme.
"""

from __future__ import annotations

import enum

from registry.domain.errors import RegistryConflict


class CaseStatus(enum.StrEnum):
    """Where a case stands."""

    IDENTIFIED = "identified"
    ASSESSED = "assessed"
    REMEDIATION_IN_PROGRESS = "remediation_in_progress"
    MONITORING = "monitoring"
    CLOSED = "closed"


class Classification(enum.StrEnum):
    """Why the child has a case."""

    CHILD_LABOURER = "child_labourer"
    AT_RISK = "at_risk"


class ClosureReason(enum.StrEnum):
    """Why a case was closed."""

    WITHDRAWN = "withdrawn"
    PROTECTED = "protected"
    MOVED = "moved"
    AGED_OUT = "aged_out"


REOPEN_STATUSES = frozenset({CaseStatus.MONITORING, CaseStatus.ASSESSED})

ALLOWED_MOVES: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.IDENTIFIED: frozenset({CaseStatus.ASSESSED, CaseStatus.CLOSED}),
    CaseStatus.ASSESSED: frozenset({CaseStatus.REMEDIATION_IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.REMEDIATION_IN_PROGRESS: frozenset({CaseStatus.MONITORING, CaseStatus.CLOSED}),
    CaseStatus.MONITORING: frozenset({CaseStatus.REMEDIATION_IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: REOPEN_STATUSES,
}

OUTCOME_OF: dict[ClosureReason, Classification] = {
    ClosureReason.WITHDRAWN: Classification.CHILD_LABOURER,
    ClosureReason.PROTECTED: Classification.AT_RISK,
}


class InvalidTransition(RegistryConflict):
    """A move the lifecycle does not allow; names the current and the requested status."""

    def __init__(self, current: CaseStatus, requested: CaseStatus, detail: str = "") -> None:
        reason = f"cannot move from {current} to {requested}"
        super().__init__("status", f"{reason}: {detail}" if detail else reason)
        self.current = current
        self.requested = requested


class ClosureRefused(RegistryConflict):
    """A closure reason the case's classification or visits do not support."""

    def __init__(self, reason: str) -> None:
        super().__init__("closure_reason", reason)


def check_move(current: CaseStatus, requested: CaseStatus) -> None:
    """Refuse a move the lifecycle does not allow."""
    if requested not in ALLOWED_MOVES[current]:
        raise InvalidTransition(current, requested)


def check_closure(current: CaseStatus, classification: Classification, closure_reason: ClosureReason) -> None:
    """Refuse a closure reason that does not fit the case's status or classification."""
    check_move(current, CaseStatus.CLOSED)
    outcome_for = OUTCOME_OF.get(closure_reason)
    if outcome_for is None:
        return
    if current is not CaseStatus.MONITORING:
        raise InvalidTransition(current, CaseStatus.CLOSED, f"a case closes as {closure_reason} only from monitoring")
    if classification is not outcome_for:
        raise ClosureRefused(f"only the case of a child classified {outcome_for} closes as {closure_reason}")
