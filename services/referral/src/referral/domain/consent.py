"""The consent gate: no referral without the guardian's recorded consent for referral, or a district officer's
override with a written reason (audited by the handler, which also checks that the officer may override)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from referral.domain.errors import Conflict, require_aware
from referral.domain.overrides import Override


@dataclass(frozen=True)
class RecordedConsent:
    """The guardian's consent for referral, as the registry recorded it."""

    given_at: dt.datetime

    def __post_init__(self) -> None:
        require_aware(self.given_at, "consent.given_at")


ConsentBasis = RecordedConsent | Override


@dataclass(frozen=True)
class ConsentState:
    """Whether the guardian's consent for referral holds for a child, as of the registry's recording of the decision
    in force. A later recording supersedes an earlier one, whatever order they arrive in (newest wins)."""

    child_id: str
    given: bool
    recorded_at: dt.datetime

    def __post_init__(self) -> None:
        require_aware(self.recorded_at, "consent.recorded_at")

    def supersedes(self, current: ConsentState | None) -> bool:
        """Whether this state replaces `current` (it is newer, or nothing was recorded)."""
        return current is None or self.recorded_at > current.recorded_at

    @property
    def given_at(self) -> dt.datetime | None:
        """When the consent in force was recorded, None when it does not hold."""
        return self.recorded_at if self.given else None


class ConsentRequired(Conflict):
    """Neither recorded consent nor an override: the referral cannot be issued."""

    def __init__(self) -> None:
        super().__init__("consent", "no consent for referral is recorded for the child: it takes the guardian's "
                                    "consent or a district officer's override with a written reason")


def consent_basis(given_at: dt.datetime | None, override: Override | None) -> ConsentBasis:
    """What a referral rests on: the recorded consent first, else the override; neither is refused."""
    if given_at is not None:
        return RecordedConsent(given_at)
    if override is not None:
        return override
    raise ConsentRequired
