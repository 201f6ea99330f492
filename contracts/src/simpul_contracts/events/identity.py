"""Events the identity service publishes."""

from __future__ import annotations

import datetime as dt
import enum
from typing import ClassVar

from pydantic import Field

from simpul_contracts.event import DataClass, Event
from simpul_contracts.events.common import Id, VillageCode


class LinkReason(enum.StrEnum):
    """Why a record was linked to its person."""

    NEW_PERSON = "new_person"
    AUTOMATIC_MATCH = "automatic_match"
    VERIFIED = "verified"


class RecordLinkedV1(Event):
    """A source record now belongs to a person (pseudonymous: no identifying fields)."""

    event_type: ClassVar[str] = "simpul.identity.record-linked.v1"
    topic: ClassVar[str] = "identity.link.v1"
    source: ClassVar[str] = "simpul/identity"
    data_class: ClassVar[DataClass] = DataClass.PSEUDONYMOUS

    source_system: Id
    source_record_id: Id
    person_id: Id = Field(description="Opaque, stable person id")
    village_code: VillageCode | None = None
    reason: LinkReason
    linked_at: dt.datetime

    @property
    def key(self) -> str:
        """Keyed by source record, so one record's link history stays ordered."""
        return f"{self.source_system}:{self.source_record_id}"
