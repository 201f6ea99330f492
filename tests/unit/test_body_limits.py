"""Every request body has a size limit: 413 problem+json, whether the client declares its length or streams it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request

from simpul.services import SERVICES
from simpul_platform.body_limits import LimitRequestBodies
from simpul_platform.problems import install_problem_handlers

LIMIT = 4096


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(LimitRequestBodies, default_bytes=LIMIT, by_prefix={"/uploads": 4 * LIMIT})
    seen: list[int] = []
    app.state.seen = seen

    @app.post("/things")
    async def things(body: dict[str, str]) -> dict[str, int]:
        seen.append(len(body))
        return {"fields": len(body)}

    @app.post("/uploads")
    async def uploads(request: Request) -> dict[str, int]:
        size = len(await request.body())
        seen.append(size)
        return {"bytes": size}

    return app


async def _chunks(size: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < size:
        yield b"x" * min(1000, size - sent)
        sent += 1000


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
async def test_a_body_over_the_limit_is_a_413_problem_and_reaches_no_route(streamed: bool) -> None:
    app = _app()
    big = {"note": "x" * (2 * LIMIT)}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        if streamed:
            response = await client.post("/uploads", content=_chunks(5 * LIMIT))
        else:
            response = await client.post("/things", json=big)
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/content-too-large"
    assert app.state.seen == []


async def test_bodies_within_their_limit_pass() -> None:
    app = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        small = await client.post("/things", json={"note": "ok"})
        upload = await client.post("/uploads", content=_chunks(3 * LIMIT))  # over the default, within its own
    assert small.status_code == 200, small.text
    assert upload.json() == {"bytes": 3 * LIMIT}


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_every_service_limits_its_bodies(service: str) -> None:
    """Before the limit, a 3 MiB body was read whole and reached validation or the route."""
    app = SERVICES[service].build(SERVICES[service].settings_with(database_url="sqlite+aiosqlite:///:memory:"))
    body = b'{"note": "' + b"x" * (3 * 2**20) + b'"}'
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
        response = await client.post("/anything", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text
