"""What a request and its SQL leave in a trace: one server span named by the route template, without the query
string, continuing the caller's trace, whose id a 500 names; one client span per SQL statement."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import create_engine, text

from simpul_platform.problems import install_problem_handlers
from simpul_platform.telemetry import ServerSpans, _SqlSpans

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _traced_app() -> tuple[FastAPI, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/children/{child_id}")
    async def child(child_id: str) -> dict[str, str]:
        return {"child_id": child_id}

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("no")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(ServerSpans, tracer_provider=provider)
    return app, exporter


async def _get(app: FastAPI, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get(path, headers=headers)


async def test_a_request_is_one_server_span_named_by_its_route_without_the_query() -> None:
    app, exporter = _traced_app()
    response = await _get(app, "/children/chd_1?name=Siti", {"traceparent": f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"})
    assert response.status_code == 200
    [span] = exporter.get_finished_spans()
    assert (span.name, span.kind) == ("GET /children/{child_id}", trace.SpanKind.SERVER)
    assert format(span.context.trace_id, "032x") == CALLER_TRACE
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/children/{child_id}"
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["url.path"] == "/children/chd_1"
    assert not [key for key, value in span.attributes.items() if "Siti" in str(value)]


async def test_a_500_names_the_trace_of_its_span_and_health_checks_leave_none() -> None:
    app, exporter = _traced_app()
    body = (await _get(app, "/boom")).json()
    assert (await _get(app, "/health")).status_code == 200
    [span] = exporter.get_finished_spans()
    assert body["trace_id"] == format(span.context.trace_id, "032x")
    assert span.status.status_code == trace.StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 500


def test_each_sql_statement_is_a_client_span_named_by_operation_and_database(tmp_path: object) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    engine = create_engine(f"sqlite:///{tmp_path}/t.db")
    meter = MeterStub()
    _SqlSpans(engine, provider.get_tracer("test"), meter)  # type: ignore[arg-type]
    with engine.connect() as connection:
        connection.execute(text("select 1"))
        connection.execute(text("select 1"))
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == [f"select {tmp_path}/t.db"] * 2
    assert spans[0].attributes is not None
    assert dict(spans[0].attributes) == {"db.system": "sqlite", "db.name": f"{tmp_path}/t.db",
                                         "db.statement": "select 1"}
    assert meter.by_state == {"idle": 1, "used": 0}  # the connection went back to the pool
    engine.dispose()
    assert meter.by_state == {"idle": 0, "used": 0}


class MeterStub:
    """An up-down counter that sums by state."""

    def __init__(self) -> None:
        self.by_state: dict[str, int] = {}

    def add(self, value: int, attributes: dict[str, str]) -> None:
        """Count `value` for the state."""
        self.by_state[attributes["state"]] = self.by_state.get(attributes["state"], 0) + value
