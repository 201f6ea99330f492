"""The registry's domain: a child as registered by a cadre. Pure Python, no frameworks."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass


class Sex(enum.StrEnum):
    """Sex as recorded."""

    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class DatePrecision(enum.StrEnum):
    """How much of the birth date is known."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


@dataclass
class Child:
    """A registered child. The person id arrives later from identity."""

    child_id: str
    full_name: str
    sex: Sex
    village_code: str
    source_system: str
    source_record_id: str
    registered_at: dt.datetime
    birth_date: dt.date | None = None
    birth_date_precision: DatePrecision | None = None
    mother_name: str | None = None
    person_id: str | None = None
    person_linked_at: dt.datetime | None = None  # when identity made the link held (None: unknown)

    def holds_link_newer_than(self, at: dt.datetime | None) -> bool:
        """Whether the link held was made after `at`: a link made earlier (a replayed dead letter landing after
        newer links) must never replace it. Unknown times never refuse."""
        return self.person_linked_at is not None and at is not None and at < self.person_linked_at

    def link_to_person(self, person_id: str, at: dt.datetime | None = None) -> bool:
        """Attach identity's person id, linked at `at`; True when the person changed. A link made before the one
        held changes nothing."""
        if self.holds_link_newer_than(at):
            return False
        changed = self.person_id != person_id
        self.person_id = person_id
        if at is not None:
            self.person_linked_at = at
        return changed


def new_child_id() -> str:
    """Opaque, unguessable child id."""
    return f"chd_{uuid.uuid4().hex}"
