"""Run a coroutine to completion from sync code, even from inside a running event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")


def run_blocking(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run `coro` on a private loop in a worker thread and return its result."""
    # asyncio.run refuses to nest in a running loop (pytest-asyncio's session loop, a CLI inside an app).
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
