"""Cells: one aggregate count of one indicator for one region, period, sex and age band.

The indicators area returns its figures as `Cell`s; the protected feed (suppression/perturbation, REST, CSV, DHIS2,
the aggregate topic) publishes them. A cell is a plain value: no person, no identifier below the region code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

CUMULATIVE = "cumulative"
_MONTH = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")


class RegionLevel(StrEnum):
    """The region hierarchy, finest first."""

    VILLAGE = "village"
    KECAMATAN = "kecamatan"
    KABUPATEN = "kabupaten"
    PROVINCE = "province"
    NATIONAL = "national"

    @property
    def rank(self) -> int:
        """0 for village up to 4 for national."""
        return list(RegionLevel).index(self)

    @property
    def district_or_above(self) -> bool:
        """Kabupaten (the district), province and national: what the ministry may see."""
        return self.rank >= RegionLevel.KABUPATEN.rank


class Sex(StrEnum):
    """Sex disaggregation; ALL is the margin."""

    FEMALE = "female"
    MALE = "male"
    ALL = "all"


class AgeBand(StrEnum):
    """Age at the event's date; ALL is the margin."""

    AGE_5_11 = "5-11"
    AGE_12_14 = "12-14"
    AGE_15_17 = "15-17"
    ALL = "all"


def is_period(value: str) -> bool:
    """'yyyyMM' (a calendar month) or 'cumulative'."""
    return value == CUMULATIVE or _MONTH.match(value) is not None


@dataclass(frozen=True, order=True)
class CellKey:
    """Everything that names a cell except its value."""

    indicator: str
    region_code: str
    region_level: RegionLevel
    period: str
    sex: Sex = Sex.ALL
    age_band: AgeBand = AgeBand.ALL

    def __post_init__(self) -> None:
        if not is_period(self.period):
            raise ValueError(f"period must be 'yyyyMM' or {CUMULATIVE!r}, got {self.period!r}")
        if not self.indicator or not self.region_code:
            raise ValueError("indicator and region_code are required")

    @property
    def text(self) -> str:
        """A stable textual form (the cell-key method hashes it)."""
        parts = (self.indicator, self.region_level.value, self.region_code, self.period, self.sex, self.age_band)
        return "|".join(str(part) for part in parts)


@dataclass(frozen=True)
class Cell:
    """One count. `value` is the true count in the indicators store and the protected count in the feed."""

    indicator: str
    region_code: str
    region_level: RegionLevel
    period: str
    sex: Sex
    age_band: AgeBand
    value: int

    def __post_init__(self) -> None:
        if not is_period(self.period):
            raise ValueError(f"period must be 'yyyyMM' or {CUMULATIVE!r}, got {self.period!r}")
        if self.value < 0:
            raise ValueError("a count cannot be negative")

    @classmethod
    def of(cls, key: CellKey, value: int) -> Cell:
        """The cell named by `key` with `value`."""
        return cls(key.indicator, key.region_code, key.region_level, key.period, key.sex, key.age_band, value)

    @property
    def key(self) -> CellKey:
        """The cell without its value."""
        return CellKey(self.indicator, self.region_code, self.region_level, self.period, self.sex, self.age_band)

    def with_value(self, value: int) -> Cell:
        """The same cell with another value."""
        return replace(self, value=value)


NATIONAL_CODE = "ID"
"""The national region's code (and DHIS2 org unit code)."""


def parent_region(code: str, level: RegionLevel) -> tuple[str, RegionLevel] | None:
    """The region one level up: region codes are dotted ('35.09.11.2007' -> '35.09.11'); provinces sit under ID."""
    if level is RegionLevel.NATIONAL:
        return None
    parent_level = list(RegionLevel)[level.rank + 1]
    if parent_level is RegionLevel.NATIONAL:
        return NATIONAL_CODE, parent_level
    return code.rsplit(".", 1)[0], parent_level
