"""Events the registry publishes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from simpul_contracts.event import DataClass, Event
from simpul_contracts.events.common import DatePrecision, Id, Sex, VillageCode

Digits16 = Annotated[str, StringConstraints(pattern=r"^\d{16}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ChildIdentityRecordedV1(Event):
    """A child's identifying details as the registry holds them now: for identity matching only (restricted)."""

    event_type: ClassVar[str] = "simpul.registry.child-identity-recorded.v1"
    topic: ClassVar[str] = "registry.child-identity.v1"
    source: ClassVar[str] = "simpul/registry"
    data_class: ClassVar[DataClass] = DataClass.RESTRICTED

    child_id: Id
    source_system: Id = Field(description="System the record came from; 'simpul-registry' for our own")
    source_record_id: Id
    full_name: Name
    sex: Sex
    birth_date: dt.date | None = None
    birth_date_precision: DatePrecision | None = None
    nik: Digits16 | None = None
    kk_number: Digits16 | None = None
    mother_name: Name | None = None
    village_code: VillageCode
    recorded_at: dt.datetime

    @property
    def key(self) -> str:
        """Keyed by child id."""
        return self.child_id
