"""The FastAPI application of a service: lifespan around the runtime, health, problem+json, tracing."""

from __future__ import annotations

import contextlib
import pathlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Annotated, Any

import fastapi_offline
from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from simpul_platform.auth import TokenKeys
from simpul_platform.body_limits import LimitRequestBodies
from simpul_platform.problems import DESCRIPTIONS, Problem, install_problem_handlers, problem_type
from simpul_platform.runtime import ServiceRuntime
from simpul_platform.telemetry import ServerSpans, configure_logging, configure_telemetry, trace_engine

VERSION = "0.1.0"
# Swagger UI 5 and ReDoc as files of an installed package: district networks are often offline, so no CDN.
DOCS_ASSETS = pathlib.Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"


def create_app(runtime: ServiceRuntime, *, title: str, description: str, routers: Sequence[APIRouter],
               body_limits: Mapping[str, int] | None = None) -> FastAPI:
    """Build the service's app; the broker and relay start in its lifespan, not at import.

    Request bodies are limited to `max_request_bytes`; `body_limits` gives larger ones by path prefix (uploads).
    """

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

    # FastAPI's own telemetry off: ServerSpans traces every request once (FastAPI's would add a span per dependency
    # and serialisation, and puts the query string, which may hold a name, in its spans).
    app = FastAPI(title=title, description=description, version=VERSION, lifespan=lifespan, docs_url=None,
                  redoc_url=None, telemetry={"tracing": False, "metrics": False, "logs": False,
                                             "operation_spans": False})
    app.state.runtime = runtime
    app.state.token_keys = TokenKeys.from_settings(runtime.settings)
    install_problem_handlers(app)
    app.add_middleware(LimitRequestBodies, default_bytes=runtime.settings.max_request_bytes, by_prefix=body_limits)
    app.include_router(_health_router(runtime))
    app.include_router(_problems_router())
    _serve_documentation(app)
    for router in routers:
        app.include_router(router)
    # One server span per request (no ASGI receive/send spans: they say nothing a reader of a trace needs and
    # cost more than most routes), outermost but for the server-error handler, as the instrumentation was.
    app.add_middleware(ServerSpans, excluded_paths=("/health", "/ready"))
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


ETAG_HEADER = {"ETag": {"description": "The version of the resource returned; send it back in If-Match to change it",
                        "schema": {"type": "string", "examples": ['"3"']}}}
HEADER_DESCRIPTIONS = {
    "If-Match": "The ETag of the version you read (RFC 9110 section 13.1.1): 412 when the resource changed since.",
    "Idempotency-Key": "A unique key per intended change (draft-ietf-httpapi-idempotency-key-header): a retry with "
                       "the same key and the same body gets the first answer again; the same key with another body "
                       "is a 422; a key is kept for 24 hours by default, after which it may be reused.",
}


def required_header(name: str, *, description: str | None = None, **schema: Any) -> dict[str, Any]:
    """A route's `openapi_extra` stating that it requires the header `name` (a string with these JSON Schema
    constraints), for a route that takes the header as optional so that its absence gets the route's own problem
    (a 428 for If-Match, a 400 for Idempotency-Key) instead of FastAPI's 422, while the document still says the
    truth. Declare the route's header parameter with `include_in_schema=False`."""
    parameter: dict[str, Any] = {"name": name, "in": "header", "required": True,
                                 "schema": {"type": "string", **schema}}
    if description is not None:
        parameter["description"] = description
    return {"parameters": [parameter]}


def _document_headers(paths: dict[str, Any]) -> None:
    """Describe If-Match and Idempotency-Key where taken, and the ETag a versioned resource answers with."""
    versioned = {path for path, operations in paths.items() for operation in operations.values()
                 for parameter in _described_headers(operation) if parameter["name"] == "If-Match"}
    for path, operations in paths.items():
        is_read_of_versioned = "{" in path and any(v == path or v.startswith(path + "/") for v in versioned)
        for method, operation in operations.items():
            if path in versioned or (is_read_of_versioned and method == "get"):
                for status, response in operation.get("responses", {}).items():
                    if status.startswith("2"):
                        response.setdefault("headers", {}).update(ETAG_HEADER)


def _described_headers(operation: dict[str, Any]) -> list[dict[str, Any]]:
    """The operation's If-Match and Idempotency-Key parameters, each given its description."""
    headers = [p for p in operation.get("parameters", [])
               if p.get("in") == "header" and p["name"] in HEADER_DESCRIPTIONS]
    for parameter in headers:
        parameter.setdefault("description", HEADER_DESCRIPTIONS[parameter["name"]])
    return headers


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
                for status, error in _ERRORS.items():  # an operation's own (a FHIR OperationOutcome) stays
                    responses.setdefault(status, error)
        _document_headers(document.get("paths", {}))
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _serve_documentation(app: FastAPI) -> None:
    """`/docs` (Swagger UI) and `/redoc`, every asset from this server."""
    app.mount(ASSETS_URL, StaticFiles(directory=DOCS_ASSETS), name="documentation-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css", swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png", with_google_fonts=False)


def _problems_router() -> APIRouter:
    router = APIRouter(tags=["problems"])

    @router.get("/problems/{slug}", summary="What a problem type means")
    async def problem_description(slug: Annotated[str, Path(pattern="^[a-z0-9-]{1,80}$")]) -> dict[str, str]:
        """The description of a problem `type` this service answers with."""
        if slug not in DESCRIPTIONS:
            raise Problem(404, "Not found", "no such problem type")
        return {"type": problem_type(slug), "description": DESCRIPTIONS[slug]}

    return router


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

    return router
