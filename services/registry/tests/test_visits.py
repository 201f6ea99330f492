"""Monitoring visits: what a cadre records, and the contradictions refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from registry.domain.attribution import MissingAttribution
from registry.domain.visits import (
    Hazard,
    InvalidVisit,
    MonitoringVisit,
    Schooling,
    SchoolStatus,
    WorkSector,
    new_visit_id,
)

ENROLLED = Schooling(SchoolStatus.ENROLLED, grade=6, attends_regularly=False)


def working_visit(**changes: Any) -> MonitoringVisit:
    fields: dict[str, Any] = {
        "visit_id": "vis_1", "visited_on": dt.date(2025, 8, 14), "visitor": "kader_1", "child_working": True,
        "schooling": ENROLLED, "sectors": frozenset({WorkSector.TOBACCO}),
        "work_activities": "picking and stringing leaves", "hours_per_week": 30,
        "hazards": frozenset({Hazard.GREEN_TOBACCO_SICKNESS, Hazard.EXTREME_HEAT})}
    return MonitoringVisit(**(fields | changes))


def test_a_visit_finding_the_child_working_records_the_work() -> None:
    visit = working_visit()
    assert visit.child_working
    assert visit.hazards == {Hazard.GREEN_TOBACCO_SICKNESS, Hazard.EXTREME_HEAT}
    assert (visit.schooling.status, visit.schooling.grade, visit.schooling.attends_regularly) == (
        SchoolStatus.ENROLLED, 6, False)


def test_a_visit_without_child_labour_records_no_work() -> None:
    visit = working_visit(child_working=False, sectors=frozenset(), work_activities="", hours_per_week=None,
                          hazards=frozenset())
    assert not visit.child_working


@pytest.mark.parametrize("field", ["sectors", "work_activities", "hours_per_week", "hazards"])
def test_work_recorded_for_a_child_not_found_working_is_refused(field: str) -> None:
    cleared = {"child_working": False, "sectors": frozenset(), "work_activities": "", "hours_per_week": None,
               "hazards": frozenset()}
    with pytest.raises(InvalidVisit, match=rf"^{field}: recorded for a child not found working"):
        working_visit(**(cleared | {field: working_visit().__getattribute__(field)}))


@pytest.mark.parametrize(("changes", "field"), [
    ({"sectors": frozenset()}, "sectors"),
    ({"hours_per_week": 0}, "hours_per_week"),
    ({"hours_per_week": 169}, "hours_per_week"),
    ({"hazards": frozenset({Hazard.OTHER})}, "notes"),
])
def test_a_visit_contradicting_itself_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidVisit) as caught:
        working_visit(**changes)
    assert caught.value.field == field


def test_an_other_hazard_is_accepted_when_the_notes_describe_it() -> None:
    assert Hazard.OTHER in working_visit(hazards=frozenset({Hazard.OTHER}), notes="carries embers to the barn").hazards


def test_a_visit_names_its_visitor() -> None:
    with pytest.raises(MissingAttribution, match=r"^visitor: "):
        working_visit(visitor=" ")


@pytest.mark.parametrize(("schooling", "field"), [
    ({"status": SchoolStatus.NEVER_ENROLLED, "grade": 1}, "school_grade"),
    ({"status": SchoolStatus.ENROLLED, "grade": 13}, "school_grade"),
    ({"status": SchoolStatus.DROPPED_OUT, "grade": 0}, "school_grade"),
    ({"status": SchoolStatus.DROPPED_OUT, "grade": 7, "attends_regularly": True}, "attends_school_regularly"),
])
def test_school_status_and_grade_must_agree(schooling: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidVisit) as caught:
        Schooling(**schooling)
    assert caught.value.field == field


def test_a_dropout_keeps_the_last_grade_attended() -> None:
    assert Schooling(SchoolStatus.DROPPED_OUT, grade=7).grade == 7


def test_code_lists_keep_their_stored_codes() -> None:
    # These values are stored and published: this test fails when one is renamed or removed.
    assert {h.value for h in Hazard} >= {
        "green_tobacco_sickness", "pesticides", "sharp_tools", "heavy_loads", "long_hours", "night_work",
        "extreme_heat", "curing_barns", "work_at_height", "machinery", "dust_and_fumes", "water_and_diving",
        "abuse", "other"}
    assert {s.value for s in WorkSector} >= {"tobacco", "other_agriculture", "domestic", "fishing", "manufacturing",
                                             "trade", "other"}
    assert {s.value for s in SchoolStatus} >= {"enrolled", "dropped_out", "never_enrolled"}


def test_visit_ids_are_opaque_and_distinct() -> None:
    assert new_visit_id().startswith("vis_")
    assert new_visit_id() != new_visit_id()
