"""RFC 9457 problem details for every HTTP error, naming the field and the reason, never echoing values.

Each kind of problem has its own `type`, a URI reference `/problems/<slug>` made from its title, so a title and its
type always match; every service serves `GET /problems/<slug>` describing it. `instance` identifies the occurrence:
`urn:uuid:` of the request's trace id (the id in our logs and traces), which the body also carries as `trace_id`.
"""

from __future__ import annotations

import logging
import re
import uuid
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simpul_platform.errors import DomainError, ErrorKind

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "/problems/"
log = logging.getLogger(__name__)

# What each kind of problem means, for `GET /problems/<slug>`; a title without an entry still gets its own type.
DESCRIPTIONS: dict[str, str] = {
    "invalid-request": "A field of the request is invalid; `errors` names each field and the reason.",
    "not-found": "No such resource, or it lies outside your scope (we do not say which).",
    "forbidden": "Your role may not do this.",
    "conflict": "The resource is in a state that does not allow this; `errors` names the rule.",
    "precondition-failed": "If-Match names a version that is no longer current: read again and retry.",
    "precondition-required": "This change needs an If-Match header with the resource's ETag.",
    "authentication-required": "Send `Authorization: Bearer <token>`.",
    "invalid-bearer-token": "The bearer token is expired, malformed, or not issued for this service.",
    "unsupported-media-type": "The request's Content-Type is not one this operation reads.",
    "content-too-large": "The request body is larger than this operation accepts.",
    "insufficient-scope": "The token's OAuth scopes do not include the one this operation needs (RFC 6750).",
    "too-many-requests": "Too many requests from this client; wait for the seconds Retry-After gives.",
    "internal-error": "Failed on our side. Nothing about the request is echoed; quote the trace id.",
}


def slug_of(title: str) -> str:
    """`Precondition failed` -> `precondition-failed`: the type's last segment."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "problem"


def problem_type(title: str) -> str:
    """The `type` URI reference of the problems with this title."""
    return TYPE_PREFIX + slug_of(title)


def trace_id() -> str | None:
    """The current trace id as 32 hex digits, or None outside a trace."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class Problem(Exception):
    """An HTTP error to return as problem+json."""

    def __init__(self, status: int, title: str, detail: str = "", errors: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def route_of(request: Request) -> str:
    """The route's template (`/children/{child_id}`), not the path: a path may carry a NIK someone put in a URL."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "")) or "(no route)"


def problem_response(request: Request, problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    """Render a Problem (the route is a template, never the path, which may carry a NIK someone put in a URL)."""
    traced = trace_id()
    body: dict[str, Any] = {
        "type": problem_type(problem.title),
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail or problem.title,
        "instance": f"urn:uuid:{uuid.UUID(traced) if traced else uuid.uuid4()}",
        "route": route_of(request),
    }
    if traced:
        body["trace_id"] = traced
    if problem.errors:
        body["errors"] = problem.errors
    return JSONResponse(body, status_code=problem.status, media_type=MEDIA_TYPE, headers=headers)


def field_errors(error: RequestValidationError) -> list[dict[str, str]]:
    """One entry per invalid field: where it is and why, without the rejected value."""
    return [
        {"field": ".".join(str(p) for p in e["loc"] if p != "body") or "body", "reason": e["msg"]}
        for e in error.errors()
    ]


HTTP_TITLES = {413: "Content too large", 401: "Authentication required"}  # RFC 9110's names, ours where they differ

STATUS_OF_KIND = {
    ErrorKind.INVALID: (422, "Invalid request"),
    ErrorKind.NOT_FOUND: (404, "Not found"),
    ErrorKind.FORBIDDEN: (403, "Forbidden"),
    ErrorKind.CONFLICT: (409, "Conflict"),
    ErrorKind.STALE: (412, "Precondition failed"),
}


def domain_problem(error: DomainError) -> Problem:
    """The problem+json of a domain error: its kind gives the status, its field and reason the detail."""
    status, title = STATUS_OF_KIND[error.kind]
    return Problem(status, error.title or title, str(error), [{"field": error.field, "reason": error.reason}])


class ContainUnexpected:
    """Pure ASGI middleware: an unexpected exception becomes a bare 500 problem, logged by type and route only.

    Caught here rather than by an exception handler: Starlette re-raises from those, and the server would log the
    message and traceback, which may carry request values (database drivers echo them). A plain ASGI wrapper, not
    `@app.middleware("http")`: that one runs every request through a task group and memory streams.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            request = Request(scope)
            log.error("unhandled %s on %s %s", type(exc).__name__, request.method, route_of(request))
            if not started:  # else the client sees the response cut short; nothing more can be sent
                problem = Problem(500, "Internal error", "The error was logged with the trace id given here.")
                await problem_response(request, problem)(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error leave the API as problem+json."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(request, exc, headers=exc.headers or None)

    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem_response(request, domain_problem(exc))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = field_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return problem_response(request, Problem(422, "Invalid request", detail, errors))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        title = HTTP_TITLES.get(exc.status_code) or HTTPStatus(exc.status_code).phrase.capitalize()
        problem = Problem(exc.status_code, title, str(exc.detail))
        return problem_response(request, problem, headers=dict(exc.headers or {}))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_middleware(ContainUnexpected)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
