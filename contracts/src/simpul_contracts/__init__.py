"""Simpul wire contracts: the only thing services share besides the platform plumbing."""

from simpul_contracts.envelope import CloudEvent, EnvelopeError
from simpul_contracts.event import ContractError, DataClass, Event, decode_event, event_types

__all__ = ["CloudEvent", "ContractError", "DataClass", "EnvelopeError", "Event", "decode_event", "event_types"]
