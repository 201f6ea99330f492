"""Delivery metrics (OpenTelemetry): events in and out, failures, dead letters, outbox backlog, consumer lag."""

from __future__ import annotations

from dataclasses import dataclass, field

from opentelemetry import metrics
from opentelemetry.metrics import Counter, Meter, _Gauge


def _meter() -> Meter:
    return metrics.get_meter("simpul.delivery")


@dataclass
class DeliveryMetrics:
    """Instruments bound to the global meter provider (API proxies until telemetry is configured)."""

    meter: Meter = field(default_factory=_meter)

    def __post_init__(self) -> None:
        self.events_published: Counter = self.meter.create_counter(
            "simpul.events.published", unit="{event}", description="Outbox events acknowledged by Kafka"
        )
        self.events_consumed: Counter = self.meter.create_counter(
            "simpul.events.consumed", unit="{event}", description="Events applied by consumers"
        )
        self.events_duplicate: Counter = self.meter.create_counter(
            "simpul.events.duplicate", unit="{event}", description="Redelivered events skipped by the inbox"
        )
        self.events_failed: Counter = self.meter.create_counter(
            "simpul.events.failed", unit="{event}", description="Failed attempts to apply an event"
        )
        self.dead_lettered: Counter = self.meter.create_counter(
            "simpul.events.dead_lettered", unit="{event}", description="Records sent to a dead-letter topic"
        )
        self.outbox_backlog: _Gauge = self.meter.create_gauge(
            "simpul.outbox.backlog", unit="{event}", description="Committed events not yet published"
        )
        self.consumer_lag: _Gauge = self.meter.create_gauge(
            "simpul.consumer.lag", unit="{record}", description="Records behind the partition's high watermark"
        )


METRICS = DeliveryMetrics()
