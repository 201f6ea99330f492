"""Events the reporting service publishes, all aggregate: protected counts by region, period, sex and age band.

- `reporting.feed.v1`, keyed by `indicator:region_code`: `indicator published`, one cell of the ministry's protected
  feed (one indicator, region, period, sex and age band) as it is published (ADR 0005: counts 1-4 withheld, the
  rest cell-key perturbed). District level and above only; never a person, never a village.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from simpul_contracts.event import DataClass, Event
from simpul_contracts.events.common import Id


class RegionLevel(enum.StrEnum):
    """The levels the ministry's feed publishes (district and above)."""

    KABUPATEN = "kabupaten"
    PROVINCE = "province"
    NATIONAL = "national"


class FeedSex(enum.StrEnum):
    """Sex disaggregation; all is the margin."""

    FEMALE = "female"
    MALE = "male"
    ALL = "all"


class AgeBand(enum.StrEnum):
    """Age band at the event's date; all is the margin."""

    AGE_5_11 = "5-11"
    AGE_12_14 = "12-14"
    AGE_15_17 = "15-17"
    ALL = "all"


RegionCode = Annotated[
    str,
    StringConstraints(pattern=r"^(ID|\d{2}(\.\d{2})?)$"),
    Field(description="National 'ID', a province 'PP' or a kabupaten 'PP.RR' (never a village)", examples=["35.09"]),
]
Period = Annotated[
    str,
    StringConstraints(pattern=r"^(\d{4}(0[1-9]|1[0-2])|cumulative)$"),
    Field(description="'yyyyMM' or 'cumulative'", examples=["202602"]),
]


class IndicatorPublishedV1(Event):
    """One cell of the protected feed: an indicator's count in one region, period, sex and age band (aggregate)."""

    event_type: ClassVar[str] = "simpul.reporting.indicator-published.v1"
    topic: ClassVar[str] = "reporting.feed.v1"
    source: ClassVar[str] = "simpul/reporting"
    data_class: ClassVar[DataClass] = DataClass.AGGREGATE

    publication_id: Id = Field(description="The publication this belongs to (one per monthly or on-demand run)")
    published_at: dt.datetime
    as_of: dt.date = Field(description="The day the counts were taken")
    indicator: Id
    region_code: RegionCode
    region_level: RegionLevel
    period: Period
    sex: FeedSex
    age_band: AgeBand
    value: int | None = Field(ge=0, description="Protected count (perturbed by at most 2); null when withheld")

    @property
    def key(self) -> str:
        """Keyed by indicator and region, so one series stays ordered."""
        return f"{self.indicator}:{self.region_code}"


__all__ = ["AgeBand", "FeedSex", "IndicatorPublishedV1", "RegionLevel"]
