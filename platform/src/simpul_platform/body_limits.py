"""A size limit on every request body: 413 problem+json before a byte too many is read into memory.

Pure ASGI middleware. A declared Content-Length over the limit is refused at once; a chunked body is counted as it
arrives and refused when it crosses the limit. A route that takes larger bodies (a survey upload) gets its own
limit by path prefix.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simpul_platform.problems import Problem, problem_response

TITLE = "Content too large"


class LimitRequestBodies:
    """Refuse request bodies over `default_bytes`, or over the limit of the longest matching path prefix."""

    def __init__(self, app: ASGIApp, default_bytes: int, by_prefix: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.by_prefix = sorted((by_prefix or {}).items(), key=lambda item: -len(item[0]))

    def limit_of(self, path: str) -> int:
        """The limit on bodies sent to `path`."""
        return next((limit for prefix, limit in self.by_prefix if path.startswith(prefix)), self.default_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await problem_response(Request(scope), _problem(limit))(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException: FastAPI turns any other error while it reads a body into a 400.
                    raise HTTPException(413, f"body: more than {limit} bytes")
            return message

        await self.app(scope, counted, send)


def _problem(limit: int) -> Problem:
    return Problem(413, TITLE, f"body: more than {limit} bytes",
                   [{"field": "body", "reason": f"larger than this operation accepts ({limit} bytes)"}])
