"""Where and when a fact counts: the region hierarchy of a village code, the month, the age band.

Age band rule: the pseudonymous topics carry only the birth YEAR, so a child's age at an event is the age reached
in the event's calendar year (event year - birth year). A child born in 2014 counts as 12 for every event of
2026, whatever the birthday. Ages outside 5-17, or an unknown birth year, count only in the all-ages margin.
Months are the UTC calendar month of the event's own time ('yyyyMM').
"""

from __future__ import annotations

import datetime as dt

from reporting.domain.cells import AgeBand, RegionLevel, Sex

NATIONAL = "ID"
"""The code of the national level (ISO 3166 Indonesia): every region code lies under it."""

BANDS = ((5, 11, AgeBand.AGE_5_11), (12, 14, AgeBand.AGE_12_14), (15, 17, AgeBand.AGE_15_17))


def age_band(birth_year: int | None, on: dt.date) -> AgeBand | None:
    """The band of the age reached in `on`'s year; None when unknown or outside 5-17."""
    if birth_year is None:
        return None
    age = on.year - birth_year
    return next((band for low, high, band in BANDS if low <= age <= high), None)


def sex_of(recorded: str) -> Sex | None:
    """The disaggregation of a recorded sex; None (all-sexes margin only) when unknown."""
    return Sex(recorded) if recorded in (Sex.FEMALE, Sex.MALE) else None


def month(moment: dt.datetime | dt.date) -> str:
    """'yyyyMM' of a moment (UTC) or a day."""
    if isinstance(moment, dt.datetime):
        moment = moment.astimezone(dt.UTC) if moment.tzinfo else moment
    return f"{moment.year:04d}{moment.month:02d}"


def level_of(code: str) -> RegionLevel:
    """The level a region code names: ID national, PP province, PP.RR kabupaten, PP.RR.SS kecamatan, else village."""
    if code == NATIONAL:
        return RegionLevel.NATIONAL
    return (RegionLevel.PROVINCE, RegionLevel.KABUPATEN, RegionLevel.KECAMATAN, RegionLevel.VILLAGE)[
        min(code.count("."), 3)]


def ancestry(code: str) -> list[tuple[str, RegionLevel]]:
    """A region and every region above it, up to national (a district code PP.RR starts at the kabupaten)."""
    parts = code.split(".")
    chain = [(".".join(parts[:size]), level_of(".".join(parts[:size]))) for size in range(len(parts), 0, -1)]
    return [*chain, (NATIONAL, RegionLevel.NATIONAL)]


def within(code: str, region: str) -> bool:
    """True when `code` is `region` or lies under it."""
    return region in (NATIONAL, code) or code.startswith(region + ".")
