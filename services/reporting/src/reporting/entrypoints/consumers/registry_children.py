"""Consumer of registry.child.v1: every child event kept as a fact of the indicators."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from reporting.adapters.contract_mapping import child_event
from reporting.domain.indicator_commands import KeepChildEvents
from reporting.service_layer.indicator_handlers import keep_child_events
from reporting.service_layer.unit_of_work import ReportingUnitOfWork
from simpul_contracts.events import (
    CaseStatusChangedV1,
    ChildClassifiedV1,
    ChildErasedV1,
    ChildRegisteredV1,
    ChildUpdatedV1,
    ConsentChangedV1,
    MonitoringVisitRecordedV1,
)
from simpul_contracts.events.registry import ChildStateEvent
from simpul_platform.delivery import Delivery
from simpul_platform.runtime import ServiceRuntime

EVENTS = (ChildRegisteredV1, ChildUpdatedV1, ChildClassifiedV1, CaseStatusChangedV1, ConsentChangedV1,
          MonitoringVisitRecordedV1)
NOT_COUNTED = (ChildErasedV1,)
"""Event types of the topic that change no indicator, skipped on purpose: an erasure blanks identifying data, which
reporting never holds (its facts are pseudonymous: ids, sex, birth year, village, codes), and the erased child still
counts (ADR 0006)."""


async def child_events(uow: ReportingUnitOfWork, run: Sequence[Delivery]) -> None:
    """A run of child events as one command."""
    events = tuple(child_event(cast(ChildStateEvent, d.event), d.envelope) for d in run)
    await keep_child_events(KeepChildEvents(events), uow)


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReportingUnitOfWork]) -> None:
    """Subscribe reporting to the registry's pseudonymous child events."""
    runtime.consume(ChildRegisteredV1.topic, dict.fromkeys(EVENTS, child_events), unit_of_work)
