"""An officer's explicit override of a rule (no recorded consent, a provider at full capacity), with the reason.

Whether the officer may override is a permission, checked by the handler, which also audits the override.
"""

from __future__ import annotations

from dataclasses import dataclass

from referral.domain.errors import require


@dataclass(frozen=True)
class Override:
    """Who overrides, and the written reason."""

    by: str
    reason: str

    def __post_init__(self) -> None:
        require(bool(self.by.strip()), "override.by", "an override names the officer")
        require(bool(self.reason.strip()), "override.reason", "an override needs a written reason")
