"""Every event model, by producing service. Importing this package registers them all."""

from simpul_contracts.events.identity import RecordLinkedV1
from simpul_contracts.events.registry import ChildIdentityRecordedV1

__all__ = ["ChildIdentityRecordedV1", "RecordLinkedV1"]
