"""Field types shared by several contracts."""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import Field, StringConstraints

VillageCode = Annotated[
    str,
    StringConstraints(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$"),
    Field(description="Kemendagri village code PP.RR.SS.VVVV", examples=["35.09.11.2007"]),
]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
ActorId = Annotated[
    Id,
    Field(
        description="Opaque id of the user or client who made the change (a token subject such as a cadre's "
        "account id). Never a name or an e-mail address: the pattern admits neither spaces nor '@'.",
        examples=["kader-kesilir"],
    ),
]
BirthYear = Annotated[
    int,
    Field(
        ge=1900,
        le=2100,
        description="Year of birth as the registry holds it (known whenever any part of the birth date is). "
        "The exact birth date is restricted and never travels on pseudonymous topics.",
        examples=[2014],
    ),
]


class Sex(enum.StrEnum):
    """Sex as recorded: unknown is an answer, not a gap."""

    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class DatePrecision(enum.StrEnum):
    """How much of a birth date is known."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
