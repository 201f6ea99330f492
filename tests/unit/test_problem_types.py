"""RFC 9457 exactly: a `type` URI per kind of problem matching its title, `instance` a URI, the trace id in a 500."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from simpul_platform import problems
from simpul_platform.errors import Conflict, NotFound
from simpul_platform.problems import Problem, install_problem_handlers
from simpul_platform.telemetry import ServerSpans

URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")  # RFC 3986 section 2


def _is_uri_reference(value: str) -> bool:
    return URI_CHARACTERS.fullmatch(value) is not None


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("no")

    @app.get("/missing")
    async def missing() -> None:
        raise NotFound("child_id", "no such child")

    @app.get("/conflict")
    async def conflict() -> None:
        raise Conflict("status", "closed")

    @app.get("/stale")
    async def stale() -> None:
        raise Problem(412, "Precondition failed", "If-Match: stale")

    return app


async def _get(app: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get(path)


async def test_each_kind_of_problem_has_its_own_type_matching_its_title() -> None:
    app = _app()
    bodies = [(await _get(app, path)).json() for path in ("/missing", "/conflict", "/stale", "/nowhere")]
    types = [b["type"] for b in bodies]
    assert types == ["/problems/not-found", "/problems/conflict", "/problems/precondition-failed",
                     "/problems/not-found"]
    for body in bodies:
        assert body["type"] == "/problems/" + body["title"].lower().replace(" ", "-")
        assert _is_uri_reference(body["type"])
        assert body["type"] != "about:blank"


async def test_instance_is_a_uri_not_a_route_template() -> None:
    body = (await _get(_app(), "/missing")).json()
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", body["instance"])
    assert _is_uri_reference(body["instance"])
    assert not _is_uri_reference("/children/{child_id}")  # what `instance` was before


async def test_a_500_carries_the_trace_id_it_promises() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = _app()
    app.add_middleware(ServerSpans, tracer_provider=provider)  # as create_app traces every request
    response = await _get(app, "/boom")
    body = response.json()
    assert response.status_code == 500
    traced = {format(s.context.trace_id, "032x") for s in exporter.get_finished_spans()}
    assert body["trace_id"] in traced
    assert body["instance"] == "urn:uuid:" + "-".join(
        (body["trace_id"][:8], body["trace_id"][8:12], body["trace_id"][12:16], body["trace_id"][16:20],
         body["trace_id"][20:]))
    trace.get_tracer_provider()  # the global provider is untouched


def test_every_described_type_is_a_slug() -> None:
    assert all(problems.slug_of(slug) == slug for slug in problems.DESCRIPTIONS)
