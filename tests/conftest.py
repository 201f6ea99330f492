"""Root fixtures: the real Kafka broker and PostgreSQL (simpul_infra's plugin), topics isolated per test by a
namespace, and an in-memory span exporter so tests can follow a trace across services."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from simpul_infra.catalogue import load_catalogue
from simpul_infra.topics import ensure_topics
from simpul_platform.telemetry import configure_telemetry

pytest_plugins = ["simpul_infra.pytest_plugin", "tests.support.hang_report"]


_SPANS = InMemorySpanExporter()
_METRICS = InMemoryMetricReader()


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    """Every span finished in this test process."""
    configure_telemetry("simpul-tests", extra_span_processor=SimpleSpanProcessor(_SPANS), extra_metric_reader=_METRICS)
    return _SPANS


@pytest.fixture(scope="session")
def metric_reader(spans: InMemorySpanExporter) -> InMemoryMetricReader:
    """The delivery metrics recorded in this test process (telemetry is configured once, with the spans)."""
    return _METRICS


@pytest.fixture(autouse=True)
def _clear_spans(spans: InMemorySpanExporter) -> None:
    spans.clear()


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """Fresh databases, name -> URL, on PostgreSQL (deployments) and on SQLite files (the embedded default)."""
    if request.param == "sqlite":
        return lambda name: f"sqlite+aiosqlite:///{tmp_path / name}.db"
    make_database: Callable[[str], str] = request.getfixturevalue("make_database")
    return make_database


async def fresh_namespace(kafka_bootstrap: str) -> str:
    """A new topic namespace with every catalogue topic (and its .dlq) provisioned under it."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    specs = [dataclasses.replace(spec, name=prefix + spec.name) for spec in load_catalogue().all_topics()]
    await ensure_topics(kafka_bootstrap, specs)
    return prefix


@pytest.fixture
async def namespace(kafka_bootstrap: str) -> str:
    """A fresh topic namespace for the test."""
    return await fresh_namespace(kafka_bootstrap)
