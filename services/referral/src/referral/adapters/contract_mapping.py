"""The only bridge between identity's wire events and referral's domain."""

from __future__ import annotations

from referral.domain.model import KnownPerson
from simpul_contracts.events import RecordLinkedV1


def known_person(event: RecordLinkedV1) -> KnownPerson:
    """A link event as the person referral now knows of."""
    return KnownPerson(record_key=event.key, person_id=event.person_id, village_code=event.village_code)
