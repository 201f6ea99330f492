"""OpenTelemetry set-up chosen by the standard OTEL_* variables (none by default) and trace-aware JSON logs."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from sqlalchemy import Engine

from simpul_platform.outage import RepeatLimiter

_configured = False


def configure_telemetry(
    service_name: str,
    *,
    extra_span_processor: SpanProcessor | None = None,
    extra_metric_reader: MetricReader | None = None,
) -> None:
    """Install tracer and meter providers once per process; exporters from OTEL_TRACES/METRICS_EXPORTER."""
    global _configured  # noqa: PLW0603 - OpenTelemetry providers are process-global by design
    if _configured:
        return
    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", service_name)})
    tracer_provider = TracerProvider(resource=resource)
    for exporter in _span_exporters():
        tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    if extra_span_processor is not None:
        tracer_provider.add_span_processor(extra_span_processor)
    trace.set_tracer_provider(tracer_provider)
    readers = _metric_readers() + ([extra_metric_reader] if extra_metric_reader else [])
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))
    _configured = True


def _names(variable: str) -> list[str]:
    value = os.environ.get(variable, "none")
    return [name.strip() for name in value.split(",") if name.strip() and name.strip() != "none"]


def _span_exporters() -> list[SpanExporter]:
    exporters: list[SpanExporter] = []
    for name in _names("OTEL_TRACES_EXPORTER"):
        if name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER: unsupported exporter {name!r} (use otlp, console or none)")
    return exporters


def _metric_readers() -> list[MetricReader]:
    readers: list[MetricReader] = []
    for name in _names("OTEL_METRICS_EXPORTER"):
        if name == "console":
            readers.append(PeriodicExportingMetricReader(ConsoleMetricExporter()))
        elif name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
        else:
            raise ValueError(f"OTEL_METRICS_EXPORTER: unsupported exporter {name!r} (use otlp, console or none)")
    return readers


def trace_engine(engine: Engine) -> None:
    """SQL spans for one engine. The instrumentor's own `instrument(engine=)` works only for the first engine of a
    process; services in one process (tests, `simpul up` variants) each have their own."""
    meter = metrics.get_meter("simpul.sql")
    usage = meter.create_up_down_counter(
        "db.client.connections.usage", unit="{connection}", description="Connections by state"
    )
    EngineTracer(trace.get_tracer("simpul.sql"), engine, usage)  # type: ignore[no-untyped-call]


def without_query(url: str) -> str:
    """A URL or request target without its query string: search parameters (`?name=...`) may be personal data."""
    return url.split("?", 1)[0]


class DropQueryStrings(logging.Filter):
    """On uvicorn's access log: the request line without its query string (`GET /children?name=...`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the request target of an access-log record; never drop the record."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], without_query(args[2]), *args[3:])  # format: client, method, target, ...
        return True


def drop_query_from_span(span: Any, scope: dict[str, Any]) -> None:
    """Server request hook of the ASGI instrumentation: the span keeps the URL but not its query string."""
    attributes = getattr(span, "attributes", None) or {}
    for key in ("http.url", "url.full", "http.target"):
        if key in attributes:
            span.set_attribute(key, without_query(str(attributes[key])))
    if "url.query" in attributes:
        span.set_attribute("url.query", "")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line with the current trace and span ids. Messages never carry restricted data."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        span = trace.get_current_span().get_span_context()
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if span.is_valid:
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Structured logs on stderr; exception tracebacks are reduced to their type (values may be personal data)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(RepeatLimiter())  # a broker outage: aiokafka's reconnect errors, a few per window
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h.formatter, JsonLogFormatter)] + [handler]
    root.setLevel(os.environ.get("SIMPUL_LOG_LEVEL", level))
    for noisy in ("aiokafka", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, DropQueryStrings) for f in access.filters):
        access.addFilter(DropQueryStrings())
