"""Consumer of identity.person.v1: merges and their undoing, so children are counted as persons."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from reporting.adapters.contract_mapping import merge
from reporting.domain.indicator_commands import KeepMerges
from reporting.service_layer.indicator_handlers import keep_merges
from reporting.service_layer.unit_of_work import ReportingUnitOfWork
from simpul_contracts.events import PersonsMergedV1, PersonUnmergedV1
from simpul_platform.delivery import Delivery
from simpul_platform.runtime import ServiceRuntime


async def person_changes(uow: ReportingUnitOfWork, run: Sequence[Delivery]) -> None:
    """A run of merges (or of undoings) as one command."""
    merges = tuple(merge(cast(PersonsMergedV1 | PersonUnmergedV1, d.event)) for d in run)
    await keep_merges(KeepMerges(merges), uow)


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReportingUnitOfWork]) -> None:
    """Subscribe reporting to identity's person decisions."""
    runtime.consume(PersonsMergedV1.topic, {PersonsMergedV1: person_changes, PersonUnmergedV1: person_changes},
                    unit_of_work)
