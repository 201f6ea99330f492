"""Consumer of identity.link.v1: person ids for our children, a polled batch's links in one command."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from registry.adapters import contract_mapping
from registry.service_layer.handlers.children import attach_persons
from registry.service_layer.unit_of_work import RegistryUnitOfWork
from simpul_contracts import Event
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.consumer import BatchHandler
from simpul_platform.delivery import Delivery


async def on_links(uow: RegistryUnitOfWork, deliveries: Sequence[Delivery]) -> None:
    """A run of identity's link events, applied in the consumer's unit of work (it commits, with the inbox)."""
    links = [d.event for d in deliveries if isinstance(d.event, RecordLinkedV1)]
    await attach_persons(contract_mapping.attach_persons(links), uow)


HANDLERS: Mapping[type[Event], BatchHandler] = {RecordLinkedV1: on_links}
