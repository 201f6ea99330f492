"""Consumer of identity.link.v1: person ids for our children."""

from registry.service_layer.handlers import attach_person
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.runtime import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Subscribe the registry to identity's link events."""
    runtime.consume(RecordLinkedV1.topic, {RecordLinkedV1: attach_person})
