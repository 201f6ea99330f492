"""The registry's case status of a referred child, as referral last heard it.

Changes arrive by event, possibly late or twice: the one that took effect last wins, whatever order they come in.
Whether a closure revokes the child's open referrals is a district's setting (`ClosureRule`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from referral.domain.errors import require_aware


@dataclass(frozen=True)
class CaseStatus:
    """The child's case as the registry said, as of the moment the change took effect."""

    child_id: str
    status: str
    closed: bool
    changed_at: dt.datetime

    def __post_init__(self) -> None:
        require_aware(self.changed_at, "changed_at")

    def supersedes(self, current: CaseStatus | None) -> bool:
        """Whether this status replaces `current` (a later change; a stale or repeated one does not)."""
        return current is None or self.changed_at > current.changed_at


@dataclass(frozen=True)
class ClosureRule:
    """Whether a case closure revokes the child's open referrals: per district, else the default."""

    revokes: bool = False
    by_district: Mapping[str, bool] = field(default_factory=dict)

    def revokes_in(self, district: str) -> bool:
        """The rule of the referral's district."""
        return self.by_district.get(district, self.revokes)
