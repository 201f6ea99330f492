"""Consumer of identity.link.v1: the person behind each record, for distinct counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from reporting.adapters.contract_mapping import record_person
from reporting.domain.commands import RememberRecordPersons
from reporting.service_layer.handlers import remember_record_persons
from reporting.service_layer.unit_of_work import ReportingUnitOfWork
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.delivery import Delivery
from simpul_platform.runtime import ServiceRuntime


async def record_linked(uow: ReportingUnitOfWork, run: Sequence[Delivery]) -> None:
    """A run of link events as one command, applied in the consumer's unit of work."""
    links = tuple(record_person(cast(RecordLinkedV1, delivery.event)) for delivery in run)
    await remember_record_persons(RememberRecordPersons(links), uow)


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReportingUnitOfWork]) -> None:
    """Subscribe reporting to identity's link events."""
    runtime.consume(RecordLinkedV1.topic, {RecordLinkedV1: record_linked}, unit_of_work)
