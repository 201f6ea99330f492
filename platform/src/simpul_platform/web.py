"""The FastAPI application of a service: lifespan around the runtime, health, problem+json, tracing."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from simpul_platform.auth import TokenKeys
from simpul_platform.problems import DESCRIPTIONS, Problem, install_problem_handlers, problem_type
from simpul_platform.runtime import ServiceRuntime
from simpul_platform.telemetry import configure_logging, configure_telemetry, drop_query_from_span, trace_engine

VERSION = "0.1.0"


def create_app(runtime: ServiceRuntime, *, title: str, description: str, routers: Sequence[APIRouter]) -> FastAPI:
    """Build the service's app; the broker and relay start in its lifespan, not at import."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging()
        configure_telemetry(runtime.settings.service_name)
        trace_engine(runtime.database.engine.sync_engine)
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version=VERSION, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.token_keys = TokenKeys(
        secret=runtime.settings.jwt_secret.get_secret_value(), public_key=runtime.settings.jwt_public_key
    )
    install_problem_handlers(app)
    app.include_router(_health_router(runtime))
    for router in routers:
        app.include_router(router)
    # One server span per request; the ASGI receive/send spans (two or three more per request) say nothing a
    # reader of a trace needs and cost more than most routes. No query string in a span: it may hold a name.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="health,ready", exclude_spans=["receive", "send"],
                                       server_request_hook=drop_query_from_span)
    _document_problems(app)
    return app


PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `errors` names each offending field and why, never its value.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference", "examples": ["/problems/invalid-request"],
                 "description": "The kind of problem; `GET` it for a description. One title per type."},
        "title": {"type": "string", "examples": ["Invalid request"]},
        "status": {"type": "integer", "examples": [422]},
        "detail": {"type": "string", "examples": ["nik: must have 16 digits, has 14"]},
        "instance": {"type": "string", "format": "uri", "description": "This occurrence: the trace id as a URN",
                     "examples": ["urn:uuid:4bf92f35-77b3-4da6-a3ce-929d0e0e4736"]},
        "trace_id": {"type": "string", "pattern": "^[0-9a-f]{32}$",
                     "description": "The W3C trace id under which the error was logged and traced"},
        "route": {"type": "string", "description": "The route template, never the path itself",
                  "examples": ["/children/{child_id}"]},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "reason"],
            "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}}},
    },
}
_PROBLEM = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
_ERRORS = {
    "4XX": _PROBLEM | {"description": "Refused: 400 unreadable, 401 no valid token, 403 role, 404 not found or outside "
                                      "your scope, 409 state conflict, 412/428 If-Match, 413 too large, 415 media "
                                      "type, 422 a field is invalid (named in `errors`)"},
    "5XX": _PROBLEM | {"description": "Failed on our side: nothing about the request is echoed"},
}


def _document_problems(app: FastAPI) -> None:
    """Every error is problem+json: say so in the OpenAPI document instead of FastAPI's HTTPValidationError."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["Problem"] = PROBLEM_SCHEMA
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                if "health" in operation.get("tags", []):
                    continue
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                responses.update(_ERRORS)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _health_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: database and Kafka answer", responses={503: {"description": "Not ready"}})
    async def ready() -> JSONResponse:
        checks = await runtime.readiness()
        status = 200 if all(checks.values()) else 503
        return JSONResponse({"status": "ready" if status == 200 else "not ready", "checks": checks}, status)

    @router.get("/problems/{slug}", summary="What a problem type means", responses={404: {"description": "Unknown"}})
    async def problem_description(slug: Annotated[str, Path(pattern="^[a-z0-9-]{1,80}$")]) -> dict[str, str]:
        if slug not in DESCRIPTIONS:
            raise Problem(404, "Not found", "no such problem type")
        return {"type": problem_type(slug), "description": DESCRIPTIONS[slug]}

    return router
