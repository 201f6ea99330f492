"""The local broker's lifecycle, against a real broker of its own (not the session one)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simpul_infra import kafka, topics
from simpul_infra.ports import free_port, port_is_free

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="simpul-kafka-test-"))
    yield path
    kafka.stop(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def ports() -> tuple[int, int]:
    port = free_port()
    controller = free_port()
    while controller == port:
        controller = free_port()
    return port, controller


def test_start_is_idempotent(data_dir: Path, ports: tuple[int, int]) -> None:
    port, controller = ports
    bootstrap = kafka.start(data_dir, port=port, controller_port=controller, heap="256m")
    first = kafka.status(data_dir)
    assert first.answering
    assert first.pid is not None
    assert first.bootstrap == bootstrap

    began = time.monotonic()
    assert kafka.start(data_dir, port=port, controller_port=controller, heap="256m") == bootstrap
    assert time.monotonic() - began < 1.0
    assert kafka.status(data_dir).pid == first.pid
    assert (data_dir / "logs" / "server.log").stat().st_size > 0
    assert (data_dir / "logs" / "stdout.log").read_text() == "", "the broker must log to server.log only"


def test_stop_is_clean_and_idempotent(data_dir: Path, ports: tuple[int, int]) -> None:
    pid = kafka.status(data_dir).pid
    assert pid is not None

    assert kafka.stop(data_dir) is True
    assert not Path(f"/proc/{pid}").exists()
    assert not (data_dir / "kafka.pid").exists()
    assert port_is_free(ports[0])
    assert port_is_free(ports[1])
    assert kafka.status(data_dir).describe().startswith("kafka: stopped")
    assert kafka.stop(data_dir) is False


def test_restart_keeps_storage_and_topics(data_dir: Path, ports: tuple[int, int]) -> None:
    port, controller = ports
    bootstrap = kafka.start(data_dir, port=port, controller_port=controller, heap="256m")
    meta = (data_dir / "kraft" / "meta.properties").read_text()
    name = asyncio.run(topics.fresh_topic(bootstrap, "restart", partitions=2))
    kafka.stop(data_dir)

    kafka.start(data_dir, port=port, controller_port=controller, heap="256m")
    assert (data_dir / "kraft" / "meta.properties").read_text() == meta, "storage must not be re-formatted"
    counts = asyncio.run(topics.partition_counts(bootstrap))
    assert counts[name] == 2
    kafka.stop(data_dir)


def test_failed_start_reports_the_log(tmp_path: Path) -> None:
    with socket.socket() as squatter:  # something else already holds the client port
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(kafka.KafkaError) as caught:
            kafka.start(tmp_path, port=port, controller_port=free_port(), heap="256m", timeout=60)
    message = str(caught.value)
    assert "last lines of" in message
    assert "server.log" in message
    assert "Address already in use" in message
    assert kafka.status(tmp_path).pid is None


def test_missing_java_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(kafka.KafkaError, match="JDK"):
        kafka.java_executable()


def test_cluster_ids_never_start_with_a_dash_the_storage_tool_would_read_as_an_option() -> None:
    ids = [kafka.new_cluster_id() for _ in range(2000)]  # ~1 in 64 raw ids starts with '-'
    assert all(not i.startswith("-") and len(i) == 22 for i in ids)
    assert len(set(ids)) == len(ids)
