"""Shutdown holds when a cancellation and a wake-up meet: the relay's idle sleep stops when cancelled just as a
commit wakes it (Python 3.11's wait_for lost that cancellation, and the relay outlived its service's shutdown), and
a shutdown step that never stops does not hold the service's stop beyond its bound."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from simpul_platform import runtime
from simpul_platform.relay import OutboxRelay


class Sleeper:
    """The part of a relay its idle sleep uses: the wake-up event."""

    def __init__(self) -> None:
        self._wake = asyncio.Event()


async def test_an_idle_relay_cancelled_as_a_commit_wakes_it_stops() -> None:
    sleeper: Any = Sleeper()

    async def idle() -> None:  # the relay's loop with nothing to send: sleep until woken, again and again
        while True:
            await OutboxRelay._sleep(sleeper, 60.0)

    relay = asyncio.create_task(idle())
    await asyncio.sleep(0)  # it waits on the event now
    sleeper._wake.set()  # a commit wakes it, and in the same turn
    relay.cancel()  # the shutdown cancels it

    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):  # a lost cancellation: it sleeps again, and this times out instead
            await relay


async def test_a_shutdown_step_that_never_stops_is_left_after_its_bound(caplog: pytest.LogCaptureFixture) -> None:
    released = asyncio.Event()

    async def stubborn() -> None:
        while not released.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue  # ignores cancellation until released

    step = asyncio.ensure_future(stubborn())
    async with asyncio.timeout(5):
        await runtime._bounded("a stubborn step", step, seconds=0.05)
    left_running = not step.done()
    released.set()
    step.cancel()
    await step

    assert left_running
    assert "a stubborn step did not stop" in caplog.text
