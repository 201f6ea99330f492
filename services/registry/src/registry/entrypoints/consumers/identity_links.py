"""Consumer of identity.link.v1: person ids for our children."""

from sqlalchemy.ext.asyncio import AsyncSession

from registry.service_layer import children
from simpul_contracts import CloudEvent
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.runtime import ServiceRuntime


def register(runtime: ServiceRuntime, registry: children.Registry) -> None:
    """Subscribe the registry to identity's link events."""

    async def attach_person(session: AsyncSession, event: RecordLinkedV1, _envelope: CloudEvent) -> None:
        await children.attach_person(session, registry, event)

    runtime.consume(RecordLinkedV1.topic, {RecordLinkedV1: attach_person})
