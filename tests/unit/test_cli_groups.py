"""The `simpul` command loads only the group a command line names (each service's CLI imports its HTTP stack)."""

from simpul.cli import GROUPS, app, groups_needed


def test_a_command_line_loads_only_the_group_it_names() -> None:
    assert groups_needed(["simpul", "identity", "dedupe", "--input", "x.csv"]) == ["identity"]
    assert groups_needed(["simpul", "--help"]) == list(GROUPS)
    assert groups_needed(["simpul"]) == list(GROUPS)
    assert groups_needed(["pytest", "tests/unit"]) == list(GROUPS)  # not a group: everything, as before


def test_every_group_is_mounted_when_none_is_named() -> None:
    # pytest's own argv names no group, so importing the module mounted them all.
    assert {group.name for group in app.registered_groups} >= set(GROUPS)
