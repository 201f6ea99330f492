"""Consumer of registry.child-identity.v1 (restricted): link every child record to a person."""

from functools import partial

from identity.config import IdentitySettings
from identity.service_layer.linking import link_record
from simpul_contracts.events import ChildIdentityRecordedV1
from simpul_platform.runtime import ServiceRuntime


def register(runtime: ServiceRuntime, settings: IdentitySettings) -> None:
    """Subscribe identity to the registry's identity-bearing records."""
    key = settings.nik_digest_key.get_secret_value().encode()
    handler = partial(link_record, outbox=runtime.outbox, digest_key=key)
    runtime.consume(ChildIdentityRecordedV1.topic, {ChildIdentityRecordedV1: handler})
