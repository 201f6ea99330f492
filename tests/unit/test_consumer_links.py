"""A consumer's span for a run of events links each trace the run's events came from, once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from simpul_contracts.events import RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.consumer import EventConsumer
from simpul_platform.delivery import Delivery
from simpul_platform.unit_of_work import InMemoryUnitOfWork

TRACES = ["0af7651916cd43dd8448eb211c80319c", "4bf92f3577b34da6a3ce929d0e0e4736"]


def _delivery(n: int, trace_id: str | None) -> Delivery:
    event = RecordLinkedV1(source_system="s", source_record_id=str(n), person_id="p", reason=LinkReason.NEW_PERSON,
                           linked_at=dt.datetime.now(dt.UTC))
    headers = [("traceparent", f"00-{trace_id}-b7ad6b7169203331-01".encode())] if trace_id else []
    record = SimpleNamespace(headers=headers, topic="identity.link.v1", partition=0, offset=n)
    return Delivery(record=record, envelope=event.envelope(), event=event)  # type: ignore[arg-type]


async def test_a_run_links_each_distinct_trace_once_in_order(spans: InMemorySpanExporter) -> None:
    applied: list[int] = []

    async def handler(uow: Any, run: Sequence[Delivery]) -> None:
        applied.append(len(run))

    consumer = EventConsumer(name="c", topic="identity.link.v1", handlers={RecordLinkedV1: handler},
                             unit_of_work=InMemoryUnitOfWork, inbox="c:identity.link.v1",
                             dead_letters=None)  # type: ignore[arg-type]
    traces = [TRACES[1], TRACES[1], None, TRACES[0], TRACES[1], TRACES[0]]
    await consumer._apply([_delivery(n, trace_id) for n, trace_id in enumerate(traces)])
    [span] = [s for s in spans.get_finished_spans() if s.name == "identity.link.v1 process"]
    assert applied == [6]
    assert [format(link.context.trace_id, "032x") for link in span.links] == [TRACES[1], TRACES[0]]
    assert dict(span.attributes or {})["messaging.batch.message_count"] == 6
