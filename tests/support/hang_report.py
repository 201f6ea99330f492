"""When a test is about to hit pytest-timeout, print where every asyncio task of the session's loop is waiting.

pytest-timeout prints the threads' stacks, and for an async test the main thread's stack only shows the event
loop waiting in `select`: the awaits that hang are in the tasks. So a few seconds before the timeout, a timer
thread asks the loop (which is idle, not blocked, when a test hangs on an await) to print each task's stack to the
test's captured stdout, where the failure report shows it beside pytest-timeout's own dump.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from types import FrameType

import pytest

EARLY_SECONDS = 10.0  # before the test's timeout
_loop: list[asyncio.AbstractEventLoop] = []


@pytest.fixture(scope="session", autouse=True)
async def _session_loop() -> None:
    """Remember the loop the session's async tests run on."""
    _loop[:] = [asyncio.get_running_loop()]


def print_tasks() -> None:
    """Every task of the running loop with its stack (called on the loop)."""
    tasks = asyncio.all_tasks()
    print(f"\n+++ {len(tasks)} asyncio tasks before the timeout +++", file=sys.stdout)
    for task in tasks:
        print(f"--- {task.get_name()}", file=sys.stdout)
        for frame in _awaiting(task.get_coro()):
            print(f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}", file=sys.stdout)
    sys.stdout.flush()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Arm the report for the test's call phase."""
    marker = item.get_closest_marker("timeout")
    seconds = float(marker.args[0]) if marker and marker.args else float(item.config.getini("timeout") or 0)
    timer = None
    if seconds > EARLY_SECONDS and _loop:
        loop = _loop[0]
        timer = threading.Timer(seconds - EARLY_SECONDS, _ask, args=(loop,))
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()


def _awaiting(coroutine: object) -> Iterator[FrameType]:
    """The frames of a coroutine and of what it awaits, down to the innermost (asyncio's own stack of a task
    shows only its outermost coroutine)."""
    for _ in range(100):
        frame = next((getattr(coroutine, name) for name in ("cr_frame", "gi_frame", "ag_frame")
                      if getattr(coroutine, name, None) is not None), None)
        if frame is not None:
            yield frame
        coroutine = next((getattr(coroutine, name) for name in ("cr_await", "gi_yieldfrom", "ag_await")
                          if getattr(coroutine, name, None) is not None), None)
        if coroutine is None:
            return


def _ask(loop: asyncio.AbstractEventLoop) -> None:
    if not loop.is_closed():
        loop.call_soon_threadsafe(print_tasks)
