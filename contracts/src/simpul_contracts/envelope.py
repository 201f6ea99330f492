"""CloudEvents 1.0 envelope in Kafka binary mode: attributes as `ce_*` headers, data as the record value."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
REQUIRED = ("id", "source", "type", "specversion")
OPTIONAL = ("time", "subject", "dataschema")
Headers = Sequence[tuple[str, bytes]]


class EnvelopeError(ValueError):
    """A record's headers do not form a valid CloudEvent."""


@dataclass(frozen=True)
class CloudEvent:
    """The CloudEvents attributes of one event; `id` is the idempotency key everywhere."""

    type: str
    source: str
    subject: str
    dataschema: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    specversion: str = SPEC_VERSION

    def header_values(self) -> dict[str, str]:
        """The binary-mode headers as text: `ce_<attr>` for each attribute, and `content-type`."""
        return {
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_specversion": self.specversion,
            "ce_time": self.time.isoformat(),
            "ce_subject": self.subject,
            "ce_dataschema": self.dataschema,
            "content-type": CONTENT_TYPE,
        }

    def to_headers(self, extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, bytes]]:
        """Binary-mode headers: `ce_<attr>` for each attribute, `content-type`, and any extras (traceparent)."""
        headers = [(name, value.encode()) for name, value in self.header_values().items()]
        headers.extend((name, value.encode()) for name, value in extra)
        return headers

    @classmethod
    def from_headers(cls, headers: Headers | None) -> CloudEvent:
        """Read the envelope back; raise EnvelopeError naming the missing or malformed attribute."""
        found = {}
        for name, value in headers or ():
            if name.startswith("ce_") and value is not None:
                try:
                    found[name[3:]] = value.decode()
                except UnicodeDecodeError as exc:
                    raise EnvelopeError(f"header {name}: not UTF-8") from exc
        missing = [f"ce_{name}" for name in REQUIRED if not found.get(name)]
        if missing:
            raise EnvelopeError(f"missing CloudEvents header(s): {', '.join(missing)}")
        if found["specversion"] != SPEC_VERSION:
            raise EnvelopeError(f"ce_specversion: unsupported {found['specversion']!r}, expected {SPEC_VERSION}")
        return cls(
            id=found["id"],
            source=found["source"],
            type=found["type"],
            subject=found.get("subject", ""),
            dataschema=found.get("dataschema", ""),
            time=_parse_time(found.get("time")),
        )


def _parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise EnvelopeError(f"ce_time: not an RFC 3339 timestamp: {value!r}") from exc
