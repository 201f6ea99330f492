"""HTTP request and response bodies (never the domain objects themselves)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from registry.domain.model import DatePrecision, Sex

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
VillageCode = Annotated[str, StringConstraints(pattern=r"^\d{2}\.\d{2}\.\d{2}\.[12]\d{3}$")]
SourceId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class ChildCreate(BaseModel):
    """A child to register."""

    model_config = ConfigDict(extra="forbid")

    full_name: Name
    sex: Sex
    village_code: VillageCode = Field(description="Kemendagri village code", examples=["35.09.11.2007"])
    birth_date: dt.date | None = None
    birth_date_precision: DatePrecision | None = None
    mother_name: Name | None = None
    source_record_id: SourceId | None = Field(default=None, description="The id in the system it came from")


class ChildRead(BaseModel):
    """A registered child as its district and village see it."""

    child_id: str
    full_name: str
    sex: Sex
    village_code: str
    birth_date: dt.date | None
    birth_date_precision: DatePrecision | None
    mother_name: str | None
    source_system: str
    source_record_id: str
    person_id: str | None = Field(description="Identity's person id, once linked")
    registered_at: dt.datetime
