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

    def link_to_person(self, person_id: str) -> bool:
        """Attach identity's person id; True when it changed."""
        changed = self.person_id != person_id
        self.person_id = person_id
        return changed


def new_child_id() -> str:
    """Opaque, unguessable child id."""
    return f"chd_{uuid.uuid4().hex}"
