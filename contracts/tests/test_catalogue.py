"""Topic catalogue rules and the README's generated event table."""

from __future__ import annotations

import pytest

from simpul_contracts import catalogue, readme
from simpul_contracts.catalogue import Topic
from simpul_contracts.events import ChildIdentityRecordedV1
from simpul_contracts.layout import Layout


def test_committed_catalogue_and_events_agree() -> None:
    assert catalogue.lint(Layout().topics) == []


def test_committed_readme_table_is_current() -> None:
    assert not readme.stale(Layout().readme, Layout().topics), "run `simpul contracts generate`"


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        (Topic("registry.child", "registry", "pseudonymous", "child_id", ""), "<producer>.<aggregate>.v<major>"),
        (Topic("registry.child.v1", "identity", "pseudonymous", "child_id", ""), "not its producer prefix"),
        (Topic("registry.child.v1", "registry", "secret", "child_id", ""), "unknown data class"),
        (Topic("referral.child.v1", "referral", "restricted", "child_id", ""), "restricted topics are only for"),
        (Topic("registry.child.v1", "registry", "pseudonymous", "", ""), "no key"),
    ],
)
def test_topic_rules(topic: Topic, message: str) -> None:
    problems = catalogue.topic_problems(topic)

    assert len(problems) == 1
    assert message in problems[0]


def test_event_topic_must_be_catalogued_with_its_data_class_and_major() -> None:
    model = ChildIdentityRecordedV1
    wrong_class = {model.topic: Topic(model.topic, "registry", "pseudonymous", "child_id", "")}

    assert "not in the catalogue" in catalogue.event_problems(model, {})[0]
    assert "data class restricted" in catalogue.event_problems(model, wrong_class)[0]


def test_readme_table_lists_every_event(workspace: Layout) -> None:
    text = readme.table(workspace.topics)

    assert "`simpul.registry.child-identity-recorded.v1`" in text
    assert "`simpul.identity.record-linked.v1`" in text
    assert "[schema](schemas/simpul.identity.record-linked.v1.json)" in text


def test_stale_readme_table_is_detected_and_repaired(workspace: Layout) -> None:
    text = workspace.readme.read_text()
    workspace.readme.write_text(text.replace("`RecordLinkedV1`", "`RecordLinked`"))

    assert readme.stale(workspace.readme, workspace.topics)
    assert readme.update(workspace.readme, workspace.topics)
    assert workspace.readme.read_text() == text


def test_readme_without_markers_is_an_error(workspace: Layout) -> None:
    workspace.readme.write_text("# no table\n")

    with pytest.raises(ValueError, match="markers"):
        readme.stale(workspace.readme, workspace.topics)
