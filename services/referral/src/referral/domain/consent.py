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
