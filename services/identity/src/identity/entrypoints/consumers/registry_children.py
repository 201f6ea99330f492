"""Consumer of registry.child-identity.v1 (restricted): link every child record to a person."""

from functools import partial

from identity.service_layer.linking import Linking, link_record
from simpul_contracts.events import ChildIdentityRecordedV1
from simpul_platform.runtime import ServiceRuntime


def register(runtime: ServiceRuntime, linking: Linking) -> None:
    """Subscribe identity to the registry's identity-bearing records."""
    runtime.consume(ChildIdentityRecordedV1.topic, {ChildIdentityRecordedV1: partial(link_record, linking=linking)})
