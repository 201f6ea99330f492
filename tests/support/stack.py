"""Run Simpul services in this process (lifespan + ASGI client) against the real broker and databases."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI

from simpul.services import SERVICES
from simpul_platform.auth import Role, mint_token
from simpul_platform.settings import DEV_SECRET

T = TypeVar("T")
KESILIR = "35.09.11.2007"


def token(role: Role, *scope: str, subject: str = "tester") -> dict[str, str]:
    """Authorization header for a development token."""
    return {"Authorization": f"Bearer {mint_token(DEV_SECRET, subject, role, list(scope))}"}


@dataclass
class Stack:
    """The four services, each with an HTTP client."""

    apps: dict[str, FastAPI]
    clients: dict[str, httpx.AsyncClient]


def settings_for(service: str, database_url: str, bootstrap: str, namespace: str, **extra: Any) -> Any:
    """Settings for one service on its own database and the test's topic namespace."""
    return SERVICES[service].settings_with(
        database_url=database_url, kafka_bootstrap_servers=bootstrap, topic_namespace=namespace,
        outbox_poll_seconds=0.05, **extra)


@contextlib.asynccontextmanager
async def running(settings: dict[str, Any]) -> AsyncIterator[Stack]:
    """Start the given services (name -> settings) in process; stop them on exit."""
    apps = {name: SERVICES[name].build(s) for name, s in settings.items()}
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for name, app in apps.items():
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
            clients[name] = await stack.enter_async_context(client)
        yield Stack(apps, clients)


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 30.0, every: float = 0.1) -> T:
    """Poll until `probe` returns something truthy; fail with a clear message after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The (already started) app behind a real uvicorn server on 127.0.0.1, access log on; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # log_level: another test's uvicorn may have left the access logger at WARNING.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None,
                                           log_level="info", access_log=True))
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # up to 10 s
        if server.started:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
