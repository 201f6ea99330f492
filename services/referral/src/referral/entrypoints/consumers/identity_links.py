"""Consumer of identity.link.v1: the persons referral may refer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from referral.adapters.contract_mapping import known_person
from referral.domain.commands.persons import RecordKnownPersons
from referral.service_layer.handlers.persons import record_known_persons
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.delivery import Delivery
from simpul_platform.runtime import ServiceRuntime


async def record_linked(uow: ReferralUnitOfWork, run: Sequence[Delivery]) -> None:
    """A run of link events as one command, applied in the consumer's unit of work."""
    persons = tuple(known_person(cast(RecordLinkedV1, delivery.event)) for delivery in run)
    await record_known_persons(RecordKnownPersons(persons), uow)


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReferralUnitOfWork]) -> None:
    """Subscribe referral to identity's link events."""
    runtime.consume(RecordLinkedV1.topic, {RecordLinkedV1: record_linked}, unit_of_work)
