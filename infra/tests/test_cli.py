"""`simpul infra` commands: human output and exit statuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from simpul_infra.cli import NOT_RUNNING, app

runner = CliRunner()


def test_topics_validate_accepts_the_catalogue() -> None:
    result = runner.invoke(app, ["topics", "validate"])
    assert result.exit_code == 0, result.output
    assert "catalogue OK" in result.output


def test_a_bad_catalogue_fails_with_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "topics.yaml"
    bad.write_text("defaults: {partitions: 1, retention_ms: -1}\ntopics:\n  - name: nope\n")
    result = runner.invoke(app, ["topics", "validate", "--catalogue", str(bad)])
    assert result.exit_code == 1
    assert "error:" in result.output
    assert "topics[0] (nope)" in result.output


def test_status_of_stopped_servers_exits_3(tmp_path: Path) -> None:
    kafka = runner.invoke(app, ["kafka", "status", "--data-dir", str(tmp_path / "k")])
    assert kafka.exit_code == NOT_RUNNING
    assert "stopped" in kafka.output
    pg = runner.invoke(app, ["postgres", "status", "--data-dir", str(tmp_path / "p")])
    assert pg.exit_code == NOT_RUNNING


@pytest.mark.kafka
def test_topics_list_and_provision_against_the_session_broker(kafka_bootstrap: str) -> None:
    provisioned = runner.invoke(app, ["topics", "provision", "--bootstrap", kafka_bootstrap])
    assert provisioned.exit_code == 0, provisioned.output
    assert "0 created" in provisioned.output
    listed = runner.invoke(app, ["topics", "list", "--bootstrap", kafka_bootstrap])
    assert listed.exit_code == 0, listed.output
    assert "identity.link.v1.dlq" in listed.output


def test_unreachable_bootstrap_fails_cleanly() -> None:
    result = runner.invoke(app, ["topics", "list", "--bootstrap", "127.0.0.1:1"])
    assert result.exit_code == 1
    assert "cannot reach Kafka" in result.output
