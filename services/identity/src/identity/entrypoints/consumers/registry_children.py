"""Consumer of registry.child-identity.v1 (restricted): link every child record to a person."""

from collections.abc import Callable, Sequence

from identity.adapters.contract_mapping import link_records as link_command
from identity.service_layer.handlers.linking import link_records
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from simpul_contracts.events import ChildIdentityRecordedV1
from simpul_platform.delivery import Delivery
from simpul_platform.runtime import ServiceRuntime


async def link_run(uow: IdentityUnitOfWork, deliveries: Sequence[Delivery]) -> None:
    """A run of registry records: one command, in the consumer's unit of work."""
    await link_records(link_command(deliveries), uow)


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], IdentityUnitOfWork]) -> None:
    """Subscribe identity to the registry's identity-bearing records."""
    runtime.consume(ChildIdentityRecordedV1.topic, {ChildIdentityRecordedV1: link_run}, unit_of_work)
