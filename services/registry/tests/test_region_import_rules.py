"""Diffing an official region list against the stored regions: the rules, without a database."""

from __future__ import annotations

import pytest

from registry.domain.regions import (
    ListedRow,
    RowError,
    StoredRegion,
    UnusableRegionList,
    plan_import,
    read_region_list,
)

JEMBER = [("35", "Jawa Timur"), ("35.09", "Kabupaten Jember"), ("35.09.11", "Wuluhan"),
          ("35.09.11.2007", "Kesilir"), ("35.09.11.2001", "Lojejer")]


def listed(*pairs: tuple[str, str]) -> list[ListedRow]:
    """Rows numbered as a spreadsheet shows them below the header."""
    return [ListedRow(number, code, name) for number, (code, name) in enumerate(pairs, start=2)]


def stored(*pairs: tuple[str, str], retired: tuple[str, ...] = ()) -> dict[str, StoredRegion]:
    """Regions at version 1, some of them retired."""
    return {code: StoredRegion(code, name, 1, code in retired) for code, name in pairs}


def test_a_list_is_read_with_spreadsheet_row_numbers_skipping_blank_lines() -> None:
    lines = ["Code, Name", "35,Jawa Timur", "", " 35.09 , Kabupaten Jember ", '35.09.11,"Wuluhan, Kec."']
    rows = read_region_list(lines)
    assert rows == [ListedRow(2, "35", "Jawa Timur"), ListedRow(4, "35.09", "Kabupaten Jember"),
                    ListedRow(5, "35.09.11", "Wuluhan, Kec.")]


@pytest.mark.parametrize("lines", [[], ["kode,nama", "35,Jawa Timur"], ["name,code", "35,Jawa Timur"],
                                   ["35,Jawa Timur"], ["code,name", ""]])
def test_a_missing_or_wrong_header_or_no_rows_make_the_list_unusable(lines: list[str]) -> None:
    with pytest.raises(UnusableRegionList, match=r"^(header|file): "):
        read_region_list(lines)


def test_a_first_import_creates_every_region_and_infers_levels_and_parents() -> None:
    plan = plan_import(listed(*JEMBER), {})
    assert [r.code for r in plan.created] == ["35", "35.09", "35.09.11", "35.09.11.2001", "35.09.11.2007"]
    kesilir = plan.created[-1]
    assert (kesilir.level.value, kesilir.parent_code) == ("desa", "35.09.11")
    assert plan.counts() == {"created": 5, "renamed": 0, "retired": 0, "unretired": 0, "unchanged": 0, "errors": 0}


def test_the_same_list_again_changes_nothing() -> None:
    plan = plan_import(listed(*JEMBER), stored(*JEMBER))
    assert plan.changes == 0
    assert plan.counts()["unchanged"] == 5


def test_a_changed_name_is_the_next_version() -> None:
    current = stored(*JEMBER) | {"35.09.11.2007": StoredRegion("35.09.11.2007", "Kesilir", 4, False)}
    plan = plan_import(listed(*JEMBER[:3], ("35.09.11.2007", "Kesilir Baru"), JEMBER[4]), current)
    [renamed] = plan.renamed
    assert (renamed.region.code, renamed.region.name, renamed.version) == ("35.09.11.2007", "Kesilir Baru", 5)


@pytest.mark.parametrize("name", ["Kesilir", "Kesilir Lama"])
def test_a_retired_region_listed_again_returns_as_the_next_version(name: str) -> None:
    current = stored(*JEMBER, retired=("35.09.11.2007",))
    plan = plan_import(listed(*JEMBER[:3], ("35.09.11.2007", name), JEMBER[4]), current)
    [back] = plan.unretired
    assert (back.region.name, back.version, plan.renamed) == (name, 2, [])


def test_regions_missing_below_a_listed_district_are_retired() -> None:
    current = stored(*JEMBER, ("35.09.11.2002", "Tamansari"), ("35.09.12", "Ambulu"), ("35.09.12.2001", "Sumberejo"))
    plan = plan_import(listed(*JEMBER), current)
    assert plan.retired == ["35.09.11.2002", "35.09.12", "35.09.12.2001"]


def test_other_districts_and_lists_without_the_district_row_retire_nothing() -> None:
    lombok_utara = [("52", "Nusa Tenggara Barat"), ("52.08", "Kabupaten Lombok Utara"), ("52.08.02", "Gangga")]
    current = stored(*JEMBER, *lombok_utara, ("52.08.02.2003", "Genggelang"), ("52.07", "Kabupaten Sumbawa Barat"))
    assert plan_import(listed(*JEMBER), current).retired == []
    assert plan_import(listed(("35.09.11.2007", "Kesilir")), stored(*JEMBER)).retired == []
    assert plan_import(listed(*lombok_utara), current).retired == ["52.08.02.2003"]


def test_a_code_on_a_rejected_row_and_its_ancestors_are_not_retired() -> None:
    current = stored(*JEMBER, ("35.09.12", "Ambulu"), ("35.09.12.2001", "Sumberejo"))
    plan = plan_import(listed(*JEMBER, ("35.09.12.2001", "")), current)
    assert plan.retired == []
    assert plan.errors == [RowError(7, "name", "empty")]


def test_retired_regions_stay_retired_and_are_not_counted_again() -> None:
    current = stored(*JEMBER, ("35.09.11.2002", "Tamansari"), retired=("35.09.11.2002",))
    assert plan_import(listed(*JEMBER), current).changes == 0


@pytest.mark.parametrize(("row", "field", "reason"), [
    (("35.9.11.2007", "Kesilir"), "code", "'35.9.11.2007' is not a Kemendagri code"),
    (("35.09.11.3007", "Kesilir"), "code", "'35.09.11.3007' is not a Kemendagri code"),
    (("35.09.11.2007", ""), "name", "empty"),
    (("35.09.11.2007", "x" * 201), "name", "longer than 200 characters"),
])
def test_malformed_rows_are_rejected_with_row_field_and_reason(row: tuple[str, str], field: str, reason: str) -> None:
    plan = plan_import(listed(*JEMBER[:3], row), {})
    [error] = plan.errors
    assert (error.row, error.field) == (5, field)
    assert error.reason.startswith(reason)
    assert plan.counts()["created"] == 3


def test_extra_fields_reject_the_row_but_trailing_empty_cells_do_not() -> None:
    rows = read_region_list(["code,name", "35,Jawa Timur,", "35.09,Kabupaten,Jember"])
    plan = plan_import(rows, {})
    assert [(e.row, e.field) for e in plan.errors] == [(3, "row")]
    assert [r.code for r in plan.created] == ["35"]


def test_a_duplicate_code_keeps_the_first_row_and_rejects_the_others() -> None:
    plan = plan_import(listed(*JEMBER, ("35.09.11.2007", "Kesilir Lain")), {})
    assert [r.name for r in plan.created if r.code == "35.09.11.2007"] == ["Kesilir"]
    assert plan.errors == [RowError(7, "code", "35.09.11.2007 is already on row 5")]


def test_a_row_whose_parent_is_nowhere_is_rejected_and_so_are_its_children() -> None:
    plan = plan_import(listed(*JEMBER, ("35.09.99", ""), ("35.09.99.2001", "Baru"), ("35.09.98.2001", "Lain")), {})
    assert [(e.row, e.field) for e in plan.errors] == [(7, "name"), (8, "code"), (9, "code")]
    assert plan.errors[1].reason == "parent 35.09.99 is neither loaded from this file nor in the database"
    assert plan.counts() == {"created": 5, "renamed": 0, "retired": 0, "unretired": 0, "unchanged": 0, "errors": 3}


def test_a_parent_in_the_database_is_enough_unless_it_is_retired() -> None:
    current = stored(*JEMBER[:3], ("35.09.12", "Ambulu"), retired=("35.09.12",))
    plan = plan_import(listed(("35.09.11.2007", "Kesilir"), ("35.09.12.2001", "Sumberejo")), current)
    assert [r.code for r in plan.created] == ["35.09.11.2007"]
    assert plan.errors == [RowError(3, "code", "parent 35.09.12 is retired and not in this file")]


def test_errors_count_rejected_rows_not_messages() -> None:
    plan = plan_import(listed(*JEMBER, ("35.9", ""), ("3509", "X")), {})
    assert len(plan.errors) == 3
    assert plan.counts()["errors"] == 2
