"""The service type code list: level x type codes, versioned imports, retired codes kept."""

from __future__ import annotations

import pytest

from referral.domain.errors import Invalid
from referral.domain.service_types import (
    PILOT_SERVICE_TYPES,
    ListedServiceType,
    ServiceLevel,
    ServiceTypeList,
    level_of,
    pilot_list,
)


def test_the_pilot_list_is_version_one_with_every_level_of_the_taxonomy() -> None:
    codes = pilot_list()
    assert codes.version == 1
    assert len(codes.current()) == len(PILOT_SERVICE_TYPES) == 14
    assert {entry.level for entry in codes.current()} == set(ServiceLevel)
    assert codes.require_current("household.social_assistance").name == "Social assistance enrolment (PKH, KIP)"


@pytest.mark.parametrize("code", ["school_re_entry", "pupil.school", "child.", "Child.school", "child.a b", ""])
def test_a_malformed_code_is_refused(code: str) -> None:
    with pytest.raises(Invalid) as refused:
        level_of(code)
    assert refused.value.field == "service_type"


def test_a_code_left_out_of_an_import_is_retired_not_deleted() -> None:
    rows = [row for row in PILOT_SERVICE_TYPES if row.code != "child.school_kit"]
    codes, change = pilot_list().imported(rows)
    assert (codes.version, change.retired, change.changes) == (2, ("child.school_kit",), 1)
    retired = codes.get("child.school_kit")
    assert retired is not None
    assert (retired.retired, retired.version, retired.name) == (True, 2, "School kit")
    assert "child.school_kit" not in {entry.code for entry in codes.current()}
    with pytest.raises(Invalid, match="retired in version 2"):
        codes.require_current("child.school_kit")


def test_a_retired_code_listed_again_returns_as_a_new_version() -> None:
    without, _ = pilot_list().imported([row for row in PILOT_SERVICE_TYPES if row.code != "child.school_kit"])
    again, change = without.imported(PILOT_SERVICE_TYPES)
    assert (again.version, change.unretired) == (3, ("child.school_kit",))
    assert again.require_current("child.school_kit").version == 3


def test_new_and_renamed_codes_get_the_new_version_and_the_rest_keep_theirs() -> None:
    rows = [*PILOT_SERVICE_TYPES[1:], ListedServiceType("child.school_re_entry", "Return to school"),
            ListedServiceType("community.child_forum", "Village children's forum (FAD)")]
    codes, change = pilot_list().imported(rows)
    assert (change.created, change.renamed, change.retired) == (("community.child_forum",),
                                                                 ("child.school_re_entry",), ())
    assert codes.require_current("child.school_re_entry").version == 2
    assert codes.require_current("child.health").version == 1


def test_an_import_changing_nothing_keeps_the_version() -> None:
    codes = pilot_list()
    same, change = codes.imported(PILOT_SERVICE_TYPES)
    assert same is codes
    assert change.changes == 0


@pytest.mark.parametrize(("rows", "reason"), [
    ([], "empty"),
    ([ListedServiceType("child.health", "Health"), ListedServiceType("child.health", "Health")], "twice"),
    ([ListedServiceType("child.health", " ")], "no name"),
])
def test_an_unusable_import_is_refused_whole(rows: list[ListedServiceType], reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        pilot_list().imported(rows)


def test_an_unknown_code_is_not_current() -> None:
    with pytest.raises(Invalid, match="not in the service type list"):
        ServiceTypeList(1).require_current("child.health")
