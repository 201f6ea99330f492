"""A broker outage reported once, not 120 times a second.

During a Kafka outage aiokafka logs every failed reconnect and coordinator request at ERROR: about 2,400 lines per
service in 20 seconds. `RepeatLimiter` (on the service's log handler) lets the first few records of each kind
through per window and folds the rest into a count on the next one let through. `BrokerWatch` pings the broker and
says once when it became unreachable and once when it is back (with how long it was gone), and keeps the
`simpul.broker.available` gauge; `/ready` reports the broker as not ready meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from opentelemetry import metrics

log = logging.getLogger(__name__)


class RepeatLimiter(logging.Filter):
    """Let through at most `burst` records per `window_seconds` of each kind (logger, level, message template)
    from loggers under `prefixes`; the next one let through says how many were held back."""

    def __init__(self, prefixes: tuple[str, ...] = ("aiokafka",), burst: int = 3, window_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.prefixes, self.burst, self.window_seconds, self.clock = prefixes, burst, window_seconds, clock
        self._kinds: dict[tuple[str, int, str], list[float | int]] = {}  # kind -> [window start, passed, held]

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record held back; a record let through after held ones carries their count."""
        if not record.name.startswith(self.prefixes):
            return True
        kind = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        state = self._kinds.setdefault(kind, [now, 0, 0])
        if now - state[0] >= self.window_seconds:
            state[0], state[1] = now, 0
        if state[1] >= self.burst:
            state[2] += 1
            return False
        state[1] += 1
        if state[2]:
            record.msg = f"{record.msg} [{int(state[2])} more like this held back]"
            state[2] = 0
        return True


@dataclass
class BrokerWatch:
    """Ping the broker every `seconds`; log the outage's start and end once each, and keep a gauge of it."""

    ping: Callable[[], Awaitable[bool]]
    service: str
    seconds: float = 5.0
    clock: Callable[[], float] = time.monotonic
    down_since: float | None = None
    _gauge: metrics._Gauge = field(init=False)

    def __post_init__(self) -> None:
        self._gauge = metrics.get_meter("simpul.delivery").create_gauge(
            "simpul.broker.available", unit="1", description="1 while the service reaches Kafka, 0 during an outage")

    @property
    def available(self) -> bool:
        """False from the first failed ping until one succeeds again."""
        return self.down_since is None

    async def check(self) -> bool:
        """One ping; reports a change of state."""
        try:
            reached = await self.ping()
        except Exception:
            reached = False
        now = self.clock()
        if not reached and self.down_since is None:
            self.down_since = now
            log.error("%s: Kafka unreachable; events wait in the outbox and consumers resume when it is back "
                      "(aiokafka's repeated errors are held back meanwhile)", self.service)
        elif reached and self.down_since is not None:
            log.warning("%s: Kafka reachable again after %.0f s", self.service, now - self.down_since)
            self.down_since = None
        self._gauge.set(1 if reached else 0, {"service": self.service})
        return reached

    async def run(self) -> None:
        """Check until cancelled."""
        while True:
            await self.check()
            await asyncio.sleep(self.seconds)
