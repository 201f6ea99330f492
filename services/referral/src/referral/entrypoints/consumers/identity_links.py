"""Consumer of identity.link.v1: the persons referral may refer."""

from referral.service_layer.persons import record_linked
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.runtime import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Subscribe referral to identity's link events."""
    runtime.consume(RecordLinkedV1.topic, {RecordLinkedV1: record_linked})
