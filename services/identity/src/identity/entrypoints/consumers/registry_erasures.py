"""Consumer of registry.child.v1 (pseudonymous): the registry's erasures, obeyed (its other events are not ours)."""

from collections.abc import Callable, Sequence

from identity.adapters.contract_mapping import erase_records as erase_command
from identity.service_layer.handlers.erasure import erase_records
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from simpul_contracts.events import ChildErasedV1
from simpul_platform.delivery import Delivery
from simpul_platform.runtime import ServiceRuntime


async def erase_run(uow: IdentityUnitOfWork, deliveries: Sequence[Delivery]) -> None:
    """A run of erasures: one command, in the consumer's unit of work."""
    await erase_records(erase_command(deliveries), uow)


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], IdentityUnitOfWork]) -> None:
    """Subscribe identity to the registry's erasures."""
    runtime.consume(ChildErasedV1.topic, {ChildErasedV1: erase_run}, unit_of_work)
