"""A broker outage is reported once (start and end), and aiokafka's repeated errors do not flood the log.

Before: each service logged about 2,400 ERROR lines in a 20-second outage (120 a second), and nothing said when it
began or ended.
"""

from __future__ import annotations

import logging

import pytest

from simpul_platform.outage import BrokerWatch, RepeatLimiter
from simpul_platform.telemetry import JsonLogFormatter, configure_logging


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _flood(logger: logging.Logger, clock: Clock, seconds: int, per_second: int) -> None:
    for _ in range(seconds):
        for _ in range(per_second):
            logger.error("Unable connect to node with id %s: %s", 1, "Connect call failed")
            logger.error("Group Coordinator Request failed: [Error 15] GroupCoordinatorNotAvailableError")
        clock.now += 1


def test_a_twenty_second_outage_logs_a_handful_of_aiokafka_lines_not_thousands(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    limiter = RepeatLimiter(burst=3, window_seconds=30, clock=clock)
    caplog.handler.addFilter(limiter)
    try:
        with caplog.at_level(logging.DEBUG):
            _flood(logging.getLogger("aiokafka.conn"), clock, seconds=20, per_second=60)
            _flood(logging.getLogger("aiokafka.conn"), clock, seconds=15, per_second=60)  # a second window
            logging.getLogger("simpul.relay").error("not aiokafka: never held back")
    finally:
        caplog.handler.removeFilter(limiter)
    kafka = [r for r in caplog.records if r.name.startswith("aiokafka")]
    assert len(kafka) == 2 * 3 * 2  # 3 of each kind per 30 s window, two windows
    assert "more like this held back" in kafka[6].getMessage()  # the next window says how many were held
    assert [r.getMessage() for r in caplog.records if r.name == "simpul.relay"] == ["not aiokafka: never held back"]


def test_the_services_log_handler_holds_back_repeats() -> None:
    configure_logging()
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonLogFormatter)]
    assert any(isinstance(f, RepeatLimiter) for f in handler.filters)


async def test_the_watch_reports_an_outage_once_when_it_starts_and_once_when_it_ends(
        caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([True, False, False, False, False, True, True])
    clock = Clock()

    async def ping() -> bool:
        clock.now += 5
        return next(answers)

    watch = BrokerWatch(ping, "registry", clock=clock)
    with caplog.at_level(logging.INFO, logger="simpul_platform.outage"):
        states = [await watch.check() for _ in range(7)]
    assert states == [True, False, False, False, False, True, True]
    messages = [r.getMessage() for r in caplog.records if r.name == "simpul_platform.outage"]
    assert len(messages) == 2
    assert "Kafka unreachable" in messages[0]
    assert messages[1] == "registry: Kafka reachable again after 20 s"
    assert watch.available
