"""The only bridge between identity's wire events and reporting's domain."""

from __future__ import annotations

from reporting.domain.model import RecordPerson
from simpul_contracts.events import RecordLinkedV1


def record_person(event: RecordLinkedV1) -> RecordPerson:
    """A link event as the domain's record -> person link."""
    return RecordPerson(record_key=event.key, person_id=event.person_id, village_code=event.village_code)
