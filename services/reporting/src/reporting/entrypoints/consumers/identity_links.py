"""Consumer of identity.link.v1: the person behind each record, for distinct counts."""

from reporting.service_layer.indicators import record_linked
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.runtime import ServiceRuntime


def register(runtime: ServiceRuntime) -> None:
    """Subscribe reporting to identity's link events."""
    runtime.consume(RecordLinkedV1.topic, {RecordLinkedV1: record_linked})
