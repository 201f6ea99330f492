"""What referral is asked to do."""

from __future__ import annotations

from dataclasses import dataclass

from referral.domain.model import KnownPerson


@dataclass(frozen=True)
class RecordKnownPersons:
    """Keep the record -> person mapping current (one run of identity's link events, in order)."""

    persons: tuple[KnownPerson, ...]
