"""CloudEvents 1.0 envelope in Kafka binary mode: attributes as `ce_*` headers, data as the record value."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

SPEC_VERSION = "1.0"
_SPEC_VERSION_BYTES = SPEC_VERSION.encode()
CONTENT_TYPE = "application/json"
REQUIRED = ("id", "source", "type", "specversion")
OPTIONAL = ("time", "subject", "dataschema")
Headers = Sequence[tuple[str, bytes]]
ATTRIBUTES = {f"ce_{attribute}": attribute for attribute in (*REQUIRED, *OPTIONAL)}  # header name -> attribute


class EnvelopeError(ValueError):
    """A record's headers do not form a valid CloudEvent."""


def new_id() -> str:
    """A random (version 4) UUID as text, as `str(uuid.uuid4())` writes it, without building a UUID object."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass(frozen=True)
class CloudEvent:
    """The CloudEvents attributes of one event; `id` is the idempotency key everywhere."""

    type: str
    source: str
    subject: str
    dataschema: str
    id: str = field(default_factory=new_id)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    specversion: str = SPEC_VERSION

    @classmethod
    def new(cls, *, type: str, source: str, subject: str, dataschema: str) -> CloudEvent:
        """A new event's envelope: a fresh id, the time now (the same as the constructor's defaults, faster)."""
        return _filled(cls, {"type": type, "source": source, "subject": subject, "dataschema": dataschema,
                             "id": new_id(), "time": datetime.now(UTC), "specversion": SPEC_VERSION})

    def header_values(self) -> dict[str, str]:
        """The binary-mode headers as text: `ce_<attr>` for each attribute, and `content-type`."""
        return header_values(id=self.id, source=self.source, type=self.type, time=self.time, subject=self.subject,
                             dataschema=self.dataschema)

    def to_headers(self, extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, bytes]]:
        """Binary-mode headers: `ce_<attr>` for each attribute, `content-type`, and any extras (traceparent)."""
        headers = [(name, value.encode()) for name, value in self.header_values().items()]
        headers.extend((name, value.encode()) for name, value in extra)
        return headers

    @classmethod
    def from_headers(cls, headers: Headers | None) -> CloudEvent:
        """Read the envelope back; raise EnvelopeError naming the missing or malformed attribute."""
        # Written for speed (every consumed record comes through here): the headers into a dict in one C call, the
        # attributes read from it, and the frozen instance filled in directly (its generated __init__ sets each
        # field through object.__setattr__). Anything unusual (a missing, null or undecodable attribute, another
        # spec version) takes `_checked`, which reads null values as absent and names what is wrong.
        found = dict(headers) if headers else {}
        event_id, source, event_type = found.get("ce_id"), found.get("ce_source"), found.get("ce_type")
        if not (event_id and source and event_type and found.get("ce_specversion") == _SPEC_VERSION_BYTES):
            return cls._checked(headers)
        time, subject, dataschema = found.get("ce_time"), found.get("ce_subject"), found.get("ce_dataschema")
        try:
            attributes: dict[str, object] = {
                "id": event_id.decode(), "source": source.decode(), "type": event_type.decode(),
                "specversion": SPEC_VERSION, "subject": subject.decode() if subject else "",
                "dataschema": dataschema.decode() if dataschema else "",
                "time": _parse_time(time.decode() if time else None)}
        except UnicodeDecodeError:
            return cls._checked(headers)
        return _filled(cls, attributes)

    @classmethod
    def _checked(cls, headers: Headers | None) -> CloudEvent:
        """`from_headers` attribute by attribute: null values skipped, the last of a name kept, errors named."""
        try:
            found = {ATTRIBUTES[name]: value.decode() for name, value in headers or ()
                     if name in ATTRIBUTES and value is not None}
        except UnicodeDecodeError:
            raise EnvelopeError(f"header {_undecodable(headers or ())}: not UTF-8") from None
        get = found.get
        event_id, source, event_type, specversion = get("id"), get("source"), get("type"), get("specversion")
        if not (event_id and source and event_type and specversion):
            missing = [f"ce_{attribute}" for attribute in REQUIRED if not get(attribute)]
            raise EnvelopeError(f"missing CloudEvents header(s): {', '.join(missing)}")
        if specversion != SPEC_VERSION:
            raise EnvelopeError(f"ce_specversion: unsupported {specversion!r}, expected {SPEC_VERSION}")
        attributes: dict[str, object] = {"subject": "", "dataschema": "", **found, "time": _parse_time(get("time"))}
        return _filled(cls, attributes)


def header_values(*, id: str, source: str, type: str, time: datetime, subject: str, dataschema: str,
                  ) -> dict[str, str]:
    """An event's binary-mode headers as text, from its attributes (the outbox relay writes them from its columns)."""
    return {
        "ce_id": id,
        "ce_source": source,
        "ce_type": type,
        "ce_specversion": SPEC_VERSION,
        "ce_time": time.isoformat(),
        "ce_subject": subject,
        "ce_dataschema": dataschema,
        "content-type": CONTENT_TYPE,
    }


def _filled(cls: type[CloudEvent], attributes: dict[str, object]) -> CloudEvent:
    event = object.__new__(cls)
    event.__dict__.update(attributes)
    return event


def _undecodable(headers: Headers) -> str:
    for name, value in headers:
        if name in ATTRIBUTES and value is not None:
            try:
                value.decode()
            except UnicodeDecodeError:
                return name
    return "?"  # pragma: no cover - only called after a decode failed


def _parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise EnvelopeError(f"ce_time: not an RFC 3339 timestamp: {value!r}") from exc
