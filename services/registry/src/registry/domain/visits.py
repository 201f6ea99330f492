"""A monitoring visit: what a cadre saw of a child's work and schooling on one day.

The code lists below are stored and published: add members, never rename or reuse a value.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass

from registry.domain.attribution import require_person
from registry.domain.errors import RegistryError

HOURS_IN_A_WEEK = 168
LAST_SCHOOL_GRADE = 12  # SD 1-6, SMP 7-9, SMA/SMK 10-12; Paket A/B/C map onto the same grades


class Hazard(enum.StrEnum):
    """Hazards of a child's work, after the ILO's hazardous child labour in agriculture and Indonesia's list of
    work that endangers children's health, safety or morals (Kepmenakertrans 235/2003)."""

    GREEN_TOBACCO_SICKNESS = "green_tobacco_sickness"  # handling wet green leaves: nicotine through the skin
    PESTICIDES = "pesticides"  # mixing, spraying, or entering a field soon after spraying
    SHARP_TOOLS = "sharp_tools"  # knives, sickles, machetes
    HEAVY_LOADS = "heavy_loads"
    LONG_HOURS = "long_hours"
    NIGHT_WORK = "night_work"
    EXTREME_HEAT = "extreme_heat"  # full sun in the fields
    CURING_BARNS = "curing_barns"  # tobacco curing: heat, smoke, falls from the racks
    WORK_AT_HEIGHT = "work_at_height"
    MACHINERY = "machinery"
    DUST_AND_FUMES = "dust_and_fumes"
    WATER_AND_DIVING = "water_and_diving"  # fishing at sea, diving, work on boats and platforms
    ABUSE = "abuse"  # physical, psychological or sexual abuse at work
    OTHER = "other"  # described in the visit's notes


class WorkSector(enum.StrEnum):
    """Where the child works."""

    TOBACCO = "tobacco"
    OTHER_AGRICULTURE = "other_agriculture"
    DOMESTIC = "domestic"
    FISHING = "fishing"
    MANUFACTURING = "manufacturing"
    TRADE = "trade"
    OTHER = "other"


class SchoolStatus(enum.StrEnum):
    """The child's relation to school on the day of the visit."""

    ENROLLED = "enrolled"
    DROPPED_OUT = "dropped_out"
    NEVER_ENROLLED = "never_enrolled"


class InvalidVisit(RegistryError):
    """A visit whose parts contradict each other."""


@dataclass(frozen=True)
class Schooling:
    """School status with the current grade (enrolled) or the last grade attended (dropped out), when known.

    Enrolled children who work often stop attending during the harvest, so regular attendance is asked separately.
    """

    status: SchoolStatus
    grade: int | None = None
    attends_regularly: bool | None = None

    def __post_init__(self) -> None:
        if self.grade is not None and self.status is SchoolStatus.NEVER_ENROLLED:
            raise InvalidVisit("school_grade", "a child never enrolled has no grade")
        if self.grade is not None and not 1 <= self.grade <= LAST_SCHOOL_GRADE:
            raise InvalidVisit("school_grade", f"must be from 1 to {LAST_SCHOOL_GRADE}")
        if self.attends_regularly is not None and self.status is not SchoolStatus.ENROLLED:
            raise InvalidVisit("attends_school_regularly", "only an enrolled child attends school")


@dataclass(frozen=True)
class MonitoringVisit:
    """One visit. `child_working` is the cadre's finding that the child does work counted as child labour;
    the work details are recorded only with that finding, so a visit cannot both clear and accuse."""

    visit_id: str
    visited_on: dt.date
    visitor: str
    child_working: bool
    schooling: Schooling
    sectors: frozenset[WorkSector] = frozenset()
    work_activities: str = ""
    hours_per_week: int | None = None
    hazards: frozenset[Hazard] = frozenset()
    notes: str = ""

    def __post_init__(self) -> None:
        require_person(self.visitor, "visitor")
        if self.child_working:
            _check_work_found(self)
        else:
            _check_no_work_found(self)
        if Hazard.OTHER in self.hazards and not self.notes.strip():
            raise InvalidVisit("notes", "must describe the hazard recorded as other")


def _check_work_found(visit: MonitoringVisit) -> None:
    if not visit.sectors:
        raise InvalidVisit("sectors", "a child found working works in at least one sector")
    if visit.hours_per_week is not None and not 1 <= visit.hours_per_week <= HOURS_IN_A_WEEK:
        raise InvalidVisit("hours_per_week", f"must be from 1 to {HOURS_IN_A_WEEK} for a child found working")


def _check_no_work_found(visit: MonitoringVisit) -> None:
    details = {"sectors": visit.sectors, "work_activities": visit.work_activities.strip(),
               "hours_per_week": visit.hours_per_week, "hazards": visit.hazards}
    for field, value in details.items():
        if value:
            raise InvalidVisit(field, "recorded for a child not found working")


def new_visit_id() -> str:
    """Opaque, unguessable visit id."""
    return f"vis_{uuid.uuid4().hex}"
