"""Agreements: in force from the first to the last day of their period, covering service types and districts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from referral.domain.agreements import Agreement, district_of
from referral.domain.errors import Invalid

Build = Callable[..., Agreement]


@pytest.mark.parametrize(("day", "in_force"), [
    (dt.date(2025, 12, 31), False), (dt.date(2026, 1, 1), True), (dt.date(2026, 12, 31), True),
    (dt.date(2027, 1, 1), False),
])
def test_in_force_on_its_first_and_last_day_and_not_beyond(agreement: Build, day: dt.date, in_force: bool) -> None:
    assert agreement().in_force_on(day) is in_force


def test_it_covers_its_service_types_in_its_districts_while_in_force(agreement: Build) -> None:
    mou = agreement()
    day = dt.date(2026, 3, 2)
    assert mou.covers("child.school_re_entry", "35.09", day)
    assert not mou.covers("child.legal_aid", "35.09", day)
    assert not mou.covers("child.school_re_entry", "52.03", day)
    assert not mou.covers("child.school_re_entry", "35.09", dt.date(2027, 1, 1))


@pytest.mark.parametrize(("code", "district"), [("35.09", "35.09"), ("35.09.11", "35.09"),
                                                ("35.09.11.2007", "35.09")])
def test_the_district_of_a_region_code(code: str, district: str) -> None:
    assert district_of(code) == district


@pytest.mark.parametrize("code", ["35", "Jember", ""])
def test_a_code_above_or_outside_districts_has_no_district(code: str) -> None:
    with pytest.raises(Invalid):
        district_of(code)


@pytest.mark.parametrize(("changes", "field"), [
    ({"document_reference": ""}, "document_reference"),
    ({"ends_on": dt.date(2025, 12, 31)}, "ends_on"),
    ({"service_types": frozenset()}, "service_types"),
    ({"districts": frozenset()}, "districts"),
    ({"districts": frozenset({"35.09.11"})}, "districts"),
])
def test_an_incomplete_agreement_is_refused(agreement: Build, changes: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as refused:
        agreement(**changes)
    assert refused.value.field == field
