"""One consumed record, decoded: the Kafka record, its CloudEvents envelope and its contract event."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import ConsumerRecord

from simpul_contracts import CloudEvent, Event, decode_event


@dataclass(frozen=True)
class Delivery:
    """A record that passed envelope and contract validation."""

    record: ConsumerRecord[bytes, bytes]
    envelope: CloudEvent
    event: Event

    @property
    def traceparent(self) -> str | None:
        """The W3C trace context the producer sent along, if any (a null header value is none)."""
        for name, value in self.record.headers or ():
            if name == "traceparent" and value is not None:
                return str(value.decode("ascii", "replace"))
        return None


def read_envelope(record: ConsumerRecord[bytes, bytes]) -> CloudEvent:
    """The record's CloudEvent attributes (EnvelopeError when malformed)."""
    return CloudEvent.from_headers(record.headers)


def decode(record: ConsumerRecord[bytes, bytes], envelope: CloudEvent, model: type[Event] | None = None) -> Delivery:
    """Validate the body against its contract (`model`, when already looked up), ContractError naming the fields
    when it fails."""
    return Delivery(record=record, envelope=envelope, event=decode_event(envelope, record.value or b"", model))
