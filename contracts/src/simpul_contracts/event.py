"""Base of every wire event: one frozen pydantic model per event type and major version."""

from __future__ import annotations

import enum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from simpul_contracts.envelope import CloudEvent

SCHEMA_BASE = "https://simpul.id/contracts/schemas"
_REGISTRY: dict[str, type[Event]] = {}


class DataClass(enum.StrEnum):
    """Privacy tier of a topic and of every event on it (docs: architecture, data classes)."""

    RESTRICTED = "restricted"
    PSEUDONYMOUS = "pseudonymous"
    AGGREGATE = "aggregate"


class ContractError(ValueError):
    """An event body does not satisfy its contract; the message names the fields and reasons."""


class Event(BaseModel):
    """A versioned wire event. Subclasses set the class variables; unknown fields are ignored on read."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    topic: ClassVar[str]
    source: ClassVar[str]
    data_class: ClassVar[DataClass]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            _REGISTRY[cls.event_type] = cls

    @property
    def key(self) -> str:
        """The aggregate id the event is keyed by, so one aggregate's events stay ordered."""
        raise NotImplementedError

    @classmethod
    def schema_name(cls) -> str:
        """File name of the committed JSON Schema snapshot."""
        return f"{cls.event_type}.json"

    @classmethod
    def dataschema(cls) -> str:
        """URL of the committed JSON Schema, carried as `ce_dataschema`."""
        return f"{SCHEMA_BASE}/{cls.schema_name()}"

    def envelope(self, subject: str | None = None) -> CloudEvent:
        """A fresh CloudEvent for this event; its id is the idempotency key."""
        return CloudEvent.new(type=self.event_type, source=self.source, subject=subject or self.key,
                              dataschema=self.dataschema())

    def to_bytes(self) -> bytes:
        """The record value: compact JSON."""
        return self.model_dump_json().encode()


def event_types() -> dict[str, type[Event]]:
    """Every registered event type by its CloudEvents type."""
    import simpul_contracts.events  # noqa: F401, PLC0415 - registers the models; a top-level import would cycle

    return dict(_REGISTRY)


def decode_event(envelope: CloudEvent, body: bytes, model: type[Event] | None = None) -> Event:
    """Turn a record into its contract model (`model`, when the caller already looked up `envelope.type`);
    ContractError names the offending fields."""
    model = model or event_types().get(envelope.type)
    if model is None:
        raise ContractError(f"ce_type: unknown event type {envelope.type!r}")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise ContractError(describe_validation_error(exc)) from None
    except ValueError:  # pragma: no cover - pydantic wraps these; the text could hold input values
        raise ContractError("body: not a valid JSON document") from None


def describe_validation_error(exc: ValidationError) -> str:
    """Field paths and reasons only: never the input values, which may be personal data."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in error["loc"]) or "body"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)
