"""OpenTelemetry set-up chosen by the standard OTEL_* variables (none by default) and trace-aware JSON logs."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterable
from typing import Any

from opentelemetry import metrics, propagate, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy import Engine, event
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    """SQL spans for one engine: one CLIENT span per statement, named and described as OpenTelemetry's SQLAlchemy
    instrumentation names them (`SELECT <database>`; db.system, db.name, db.statement, db.user, net.peer.*), and the
    `db.client.connections.usage` counter by state. Its own `EngineTracer` costs several times more per statement
    (it re-reads the URL and re-splits the statement on every execution); this one works them out once per engine
    and per statement text. Services in one process (tests, `simpul up` variants) each trace their own engine."""
    _SqlSpans(engine, trace.get_tracer("simpul.sql"), metrics.get_meter("simpul.sql").create_up_down_counter(
        "db.client.connections.usage", unit="{connection}", description="Connections by state"))


class _SqlSpans:
    STATEMENTS = 2048  # span names and attributes remembered per engine (statements are a service's few hundred)

    def __init__(self, engine: Engine, tracer: trace.Tracer, usage: metrics.UpDownCounter) -> None:
        url = engine.url
        system = _vendor(engine.name)
        self.database = url.database
        self.attributes: dict[str, Any] = {"db.system": system}
        if url.host:
            self.attributes["net.peer.name"] = url.host
        if url.port:
            self.attributes["net.peer.port"] = url.port
        if url.database:
            self.attributes["db.name"] = url.database
        if url.username:
            self.attributes["db.user"] = url.username
        self.fallback_name = system
        self.tracer = tracer
        self.named: dict[str, tuple[str, dict[str, Any]]] = {}
        pool = {"pool.name": getattr(engine.pool, "logging_name", None) or url.render_as_string(hide_password=True)}
        self.usage = usage
        self.idle, self.used = pool | {"state": "idle"}, pool | {"state": "used"}
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)
        event.listen(engine, "handle_error", self.failed)
        event.listen(engine, "connect", lambda *_: usage.add(1, self.idle))
        event.listen(engine, "close", lambda *_: usage.add(-1, self.idle))
        event.listen(engine, "checkout", self.checkout)
        event.listen(engine, "checkin", self.checkin)

    def describe(self, statement: str) -> tuple[str, dict[str, Any]]:
        """The span name and attributes of a statement (remembered: compiled statements repeat their text)."""
        known = self.named.get(statement)
        if known is None:
            words = statement.split(None, 1) if statement.lstrip()[:2] != "/*" else []
            parts = [word for word in (words[0] if words else None, self.database) if word]
            known = (" ".join(parts) or self.fallback_name, self.attributes | {"db.statement": statement})
            if len(self.named) >= self.STATEMENTS:
                self.named.clear()
            self.named[statement] = known
        return known

    def before(self, _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        name, attributes = self.describe(statement)
        context._otel_span = self.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)

    @staticmethod
    def after(_conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
        span = getattr(context, "_otel_span", None)
        if span is not None:
            span.end()

    @staticmethod
    def failed(context: Any) -> None:
        span = getattr(context.execution_context, "_otel_span", None)
        if span is not None:
            span.set_status(StatusCode.ERROR, type(context.original_exception).__name__)  # a message may hold values
            span.end()

    def checkout(self, *_: Any) -> None:
        self.usage.add(-1, self.idle)
        self.usage.add(1, self.used)

    def checkin(self, *_: Any) -> None:
        self.usage.add(-1, self.used)
        self.usage.add(1, self.idle)


def _vendor(name: str) -> str:
    name = name.lower()
    return "postgresql" if "postgres" in name else "sqlite" if "sqlite" in name else name


class ServerSpans:
    """Pure ASGI middleware: one SERVER span per HTTP request, the W3C trace context of the caller continued, named
    `METHOD /route/{template}` once routed (the method alone when no route matched), with the method, scheme, path
    (never the query string: search parameters may be personal data), route and status; and the request duration
    (`http.server.request.duration`). OpenTelemetry's FastAPI instrumentation did the same at several times the cost:
    it matched the request against every route a second time to name the span."""

    def __init__(self, app: ASGIApp, *, excluded_paths: Iterable[str] = ("/health", "/ready"),
                 tracer_provider: trace.TracerProvider | None = None) -> None:
        self.app = app
        self.excluded = frozenset(excluded_paths)
        self.tracer = trace.get_tracer("simpul.http", tracer_provider=tracer_provider)  # None: the global one
        self.duration = metrics.get_meter("simpul.http").create_histogram(
            "http.server.request.duration", unit="s", description="Duration of HTTP server requests")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.excluded:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
                   if name in _PROPAGATED}
        attributes: dict[str, Any] = {"http.request.method": method, "url.scheme": scope.get("scheme", "http"),
                                      "url.path": scope["path"]}
        span = self.tracer.start_span(method, propagate.extract(carrier) if carrier else None, SpanKind.SERVER,
                                      attributes)
        status = 0

        async def traced_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        error: BaseException | None = None
        try:
            with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
                await self.app(scope, receive, traced_send)
        except BaseException as failure:
            error = failure
            raise
        finally:
            self._finish(span, scope, attributes, status=status, error=error, seconds=time.perf_counter() - started)

    def _finish(self, span: trace.Span, scope: Scope, attributes: dict[str, Any], *, status: int,
                error: BaseException | None, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None)
        ended: dict[str, Any] = {}
        if route:
            ended["http.route"] = route
            span.update_name(f"{attributes['http.request.method']} {route}")
        if status:
            ended["http.response.status_code"] = status
        if error is not None or not status or status >= 500:
            ended["error.type"] = type(error).__name__ if error is not None else str(status or "incomplete")
            span.set_status(StatusCode.ERROR)
        span.set_attributes(ended)
        span.end()
        self.duration.record(seconds, {"http.request.method": attributes["http.request.method"], **ended})


_PROPAGATED = frozenset({b"traceparent", b"tracestate", b"baggage"})


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
