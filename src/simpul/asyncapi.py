"""AsyncAPI 3.0.0 documents of the services, generated from the topic catalogue and the event models' published schemas.

What a document says, per service:

- a channel per topic the service publishes (every topic it owns: only a topic's owner writes to it) or consumes,
  addressed by the topic's name, with the Kafka channel binding (partitions, cleanup policy, retention) from
  `contracts/topics.yaml`, and every event type of that topic as a message;
- a message per event type, named by its CloudEvents type: the payload is the event's published JSON Schema (the one
  `ce_dataschema` names), the headers are the CloudEvents Kafka binary-mode headers with `ce_type` (which tells apart
  the event types sharing a topic), `ce_source` and `ce_dataschema` fixed, `correlationId` is the `ce_id` header and
  the record key is described by the Kafka message binding;
- the dead-letter channel `<topic>.dlq` of each topic the service consumes, with the error headers its consumers add;
- a `send` operation per published topic, a `receive` operation per consumed topic (with the Kafka consumer group)
  and a `send` operation per dead-letter channel.

Component keys follow `^[a-zA-Z0-9\\.\\-_]+$` as the specification requires.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from simpul_contracts import DataClass, Event, event_types
from simpul_contracts.envelope import CONTENT_TYPE, SPEC_VERSION
from simpul_contracts.snapshots import schema as published_schema
from simpul_infra.catalogue import Catalogue, TopicSpec
from simpul_platform.dead_letters import DLQ_SUFFIX, PREFIX, SEALED

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING = "0.5.0"
SERVER = "development"
DEAD_LETTER = "simpul.dead-letter"
ENVELOPE = "cloudevents-kafka-binary-headers"
CORRELATION = "ce_id"
TRACEPARENT = r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
DEFS_REF = "#/$defs/"
ENVELOPE_TEXT = (
    "Every event is a CloudEvents 1.0 event in Kafka binary mode: the record value is the event's data as UTF-8 JSON "
    "(`content-type: application/json`), the CloudEvents attributes travel as `ce_*` headers, and the record key is "
    "the aggregate id, so one aggregate's events stay in order. Delivery is at least once: deduplicate by `ce_id`, "
    "dispatch on `ce_type`, and ignore fields you do not know. The rules, the data classes and how contracts evolve "
    "are in contracts/README.md."
)
HEADERS: dict[str, dict[str, Any]] = {
    "ce_specversion": {"type": "string", "const": SPEC_VERSION, "description": "CloudEvents spec version."},
    "ce_id": {"type": "string", "pattern": UUID,
              "description": "Unique id of the event (a UUID): the idempotency key. A retry of the same event "
                             "reuses it, a replay from a dead-letter topic keeps it."},
    "ce_source": {"type": "string", "description": "The producing service, e.g. `simpul/registry`."},
    "ce_type": {"type": "string", "description": "The event type: selects the schema of the record value."},
    "ce_time": {"type": "string", "format": "date-time",
                "description": "When the event happened, RFC 3339 with an offset."},
    "ce_subject": {"type": "string",
                   "description": "The aggregate id the event is about; equals the record key. Simpul's producers "
                                  "always send it."},
    "ce_dataschema": {"type": "string", "format": "uri", "description": "The URL of the event type's JSON Schema."},
    "content-type": {"type": "string", "const": CONTENT_TYPE, "description": "Media type of the record value."},
    "traceparent": {"type": "string", "pattern": TRACEPARENT,
                    "description": "W3C Trace Context, present when tracing, so one trace follows the event "
                                   "across services."},
    "tracestate": {"type": "string", "description": "W3C Trace Context vendor state, when the trace has any."},
}
REQUIRED_HEADERS = ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_dataschema", "content-type"]
DLQ_HEADERS: dict[str, tuple[str, dict[str, Any]]] = {
    "error_type": ("The type of the error that made the record a dead letter, e.g. `ContractError`.", {}),
    "error_message": ("What was wrong, naming fields and reasons only, never values (at most 1,000 characters).",
                      {"maxLength": 1000}),
    "source_topic": ("The topic the record was consumed from.", {}),
    "source_partition": ("Its partition, as decimal text.", {"pattern": "^[0-9]+$"}),
    "source_offset": ("Its offset in that partition, as decimal text.", {"pattern": "^[0-9]+$"}),
    "attempts": ("How many times the consumer tried to apply it, as decimal text.", {"pattern": "^[1-9][0-9]*$"}),
    "consumer": ("The consumer that gave up on it (the consuming service).", {}),
    "failed_at": ("When it was dead-lettered, RFC 3339 with an offset.", {"format": "date-time"}),
}


@dataclass(frozen=True)
class Consumption:
    """One of the service's consumers: the topic, the consumer group, and the event types it applies."""

    topic: str
    group: str
    handled: Sequence[type[Event]]


def document(service: str, *, title: str, version: str, description: str, server: str, catalogue: Catalogue,
             consumes: Iterable[Consumption]) -> dict[str, Any]:
    """The service's AsyncAPI 3.0.0 document as plain data (sorted keys make it stable)."""
    topics = {topic.name: topic for topic in catalogue.topics}
    models = sorted(event_types().values(), key=lambda model: model.event_type)
    on_topic: dict[str, list[type[Event]]] = {}
    for model in models:
        on_topic.setdefault(model.topic, []).append(model)
    published = sorted(name for name, topic in topics.items() if topic.owner == service and name in on_topic)
    consumed = sorted(consumes, key=lambda consumption: consumption.topic)
    builder = _Builder(topics, on_topic)
    for name in published:
        builder.channel(name)
        builder.operation(f"send.{name}", "send", name, on_topic[name],
                          description=f"{service} publishes these events through its outbox, in order per key.")
    for consumption in consumed:
        builder.channel(consumption.topic)
        builder.receive(service, consumption)
        builder.dead_letters(service, consumption.topic, catalogue)
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": title, "version": version, "description": f"{description}\n\n{ENVELOPE_TEXT}"},
        "defaultContentType": CONTENT_TYPE,
        "servers": {SERVER: {"host": server, "protocol": "kafka",
                             "description": "The local development broker (`simpul up`); a district deployment "
                                            "names its own brokers."}},
        "channels": builder.channels,
        "operations": builder.operations,
        "components": {
            "messages": builder.messages,
            "schemas": builder.schemas,
            "correlationIds": {CORRELATION: {"location": f"$message.header#/{CORRELATION}",
                                             "description": "The CloudEvents id: unique per event, kept on retries "
                                                            "and replays."}},
        },
    }


class _Builder:
    """Collects channels, operations, messages and schemas, each once."""

    def __init__(self, topics: Mapping[str, TopicSpec], on_topic: Mapping[str, list[type[Event]]]) -> None:
        self.topics = topics
        self.on_topic = on_topic
        self.channels: dict[str, Any] = {}
        self.operations: dict[str, Any] = {}
        self.messages: dict[str, Any] = {}
        self.schemas: dict[str, Any] = {ENVELOPE: _envelope_schema()}
        self._defs: dict[str, str] = {}  # canonical JSON of a $defs entry -> its component key

    def channel(self, name: str) -> None:
        if name in self.channels:
            return
        topic = self.topics[name]
        for model in self.on_topic.get(name, []):
            self._message(model)
        self.channels[name] = {
            "address": name,
            "title": name,
            "description": f"{' '.join(topic.description.split())}\n\nData class: {topic.data_class}. "
                           f"Owner (the only producer): {topic.owner}. Key: `{topic.key}`.",
            "messages": {model.event_type: _ref("components", "messages", model.event_type)
                         for model in self.on_topic.get(name, [])},
            "bindings": {"kafka": _channel_binding(topic)},
        }

    def operation(self, key: str, action: str, channel: str, models: Iterable[type[Event]], *, description: str,
                  bindings: dict[str, Any] | None = None) -> None:
        self.operations[key] = {
            "action": action,
            "channel": _ref("channels", channel),
            "description": description,
            "messages": [_ref("channels", channel, "messages", model.event_type) for model in models],
            **({"bindings": bindings} if bindings else {}),
        }

    def receive(self, service: str, consumption: Consumption) -> None:
        handled = sorted(consumption.handled, key=lambda model: model.event_type)
        others = [model.event_type for model in self.on_topic.get(consumption.topic, []) if model not in handled]
        skipped = f" It skips the topic's other event types ({', '.join(others)})." if others else ""
        self.operation(
            f"receive.{consumption.topic}", "receive", consumption.topic, handled,
            description=f"{service} applies these events, each once (its inbox remembers the `ce_id`s applied), "
                        f"in consumer group `{consumption.group}`.{skipped} A record with an unknown `ce_type`, a "
                        f"missing CloudEvents header or an invalid value, or one still failing after its retries, "
                        f"goes to {consumption.topic}{DLQ_SUFFIX}.",
            bindings={"kafka": {"groupId": {"type": "string", "const": consumption.group},
                                "bindingVersion": KAFKA_BINDING}},
        )

    def dead_letters(self, service: str, topic: str, catalogue: Catalogue) -> None:
        name = topic + DLQ_SUFFIX
        if name not in self.channels:
            self._dead_letter_message()
            dlq = catalogue.dlq_of(self.topics[topic])
            self.channels[name] = {
                "address": name,
                "title": name,
                "description": f"Dead letters of {topic}: records its consumers could not apply, published "
                               f"{_dead_letter_value(self.topics[topic].data_class)} with the error headers added. "
                               f"Inspect and replay them with `simpul dlq list` and `simpul dlq replay`; a replayed "
                               f"event keeps its `ce_id`, so one that was in fact applied is skipped.\n\n"
                               f"Data class: {dlq.data_class}.",
                "messages": {DEAD_LETTER: _ref("components", "messages", DEAD_LETTER)},
                "bindings": {"kafka": _channel_binding(dlq)},
            }
        self.operations[f"dead-letter.{topic}"] = {
            "action": "send",
            "channel": _ref("channels", name),
            "description": f"{service} dead-letters the records of {topic} it cannot apply.",
            "messages": [_ref("channels", name, "messages", DEAD_LETTER)],
        }

    def _message(self, model: type[Event]) -> None:
        if model.event_type in self.messages:
            return
        payload = self._payload(model)
        self.schemas[model.event_type] = payload
        topic = self.topics[model.topic]
        doc = inspect.cleandoc(model.__doc__ or model.__name__)
        self.messages[model.event_type] = {
            "name": model.event_type,
            "title": model.__name__,
            "summary": doc.split("\n\n", 1)[0].replace("\n", " "),
            "description": f"{doc}\n\nData class: {model.data_class}. Schema (`ce_dataschema`): "
                           f"{model.dataschema()}",
            "contentType": CONTENT_TYPE,
            "headers": {
                "type": "object",
                "allOf": [_ref("components", "schemas", ENVELOPE)],
                "properties": {
                    "ce_type": {"type": "string", "const": model.event_type},
                    "ce_source": {"type": "string", "const": model.source},
                    "ce_dataschema": {"type": "string", "const": model.dataschema()},
                },
            },
            "payload": _ref("components", "schemas", model.event_type),
            "correlationId": _ref("components", "correlationIds", CORRELATION),
            "bindings": {"kafka": {"key": {"type": "string", "description": _key_text(model, topic.key)},
                                   "bindingVersion": KAFKA_BINDING}},
            "x-data-class": str(model.data_class),
        }

    def _payload(self, model: type[Event]) -> dict[str, Any]:
        """The published schema, its `$defs` moved to shared components (refs rewritten), without `$schema`/`$id`:
        inside an AsyncAPI document a `#` reference means the document, and `$id` would change the base."""
        schema = copy.deepcopy(published_schema(model))
        schema.pop("$schema", None)
        schema.pop("$id", None)
        pending: dict[str, Any] = dict(sorted(schema.pop("$defs", {}).items()))
        renamed: dict[str, str] = {}
        while pending:  # a definition is shared once those it refers to are
            ready = [name for name, definition in pending.items() if _refs(definition) <= renamed.keys()]
            if not ready:  # definitions referring to each other: kept apart, under the event's name
                renamed |= {name: f"{model.event_type}.{name}" for name in pending}
                self.schemas |= {renamed[name]: _rewrite(definition, renamed) for name, definition in pending.items()}
                break
            for name in ready:
                renamed[name] = self._shared(model, name, _rewrite(pending.pop(name), renamed))
        return dict(_rewrite(schema, renamed))

    def _shared(self, model: type[Event], name: str, definition: Any) -> str:
        """One component per distinct definition: named as in the model unless another definition has the name."""
        canonical = json.dumps(definition, sort_keys=True)
        if canonical not in self._defs:
            key = name if name not in self.schemas else f"{model.event_type}.{name}"
            self._defs[canonical] = key
            self.schemas[key] = definition
        return self._defs[canonical]

    def _dead_letter_message(self) -> None:
        if DEAD_LETTER in self.messages:
            return
        properties: dict[str, Any] = {f"{PREFIX}{name}": {"type": "string", "description": text, **extra}
                                      for name, (text, extra) in DLQ_HEADERS.items()}
        # Unconstrained: a malformed header can be why the record is here.
        properties |= {name: {"type": "string", "description": f"{schema['description']} Copied from the original "
                                                               f"record, when it had it."}
                       for name, schema in HEADERS.items()}
        properties[SEALED] = {"type": "string", "description": "Present when the value is sealed (a dead letter of a "
                              "restricted topic): the field-token version of the value. `simpul dlq replay` opens "
                              "it with the consuming service's field keyring and publishes the original bytes."}
        self.messages[DEAD_LETTER] = {
            "name": DEAD_LETTER,
            "title": "Dead letter",
            "summary": "A record a consumer could not apply, with the reason in its headers.",
            "description": "The key is the original record's. The value is the original record's, byte for byte "
                           "(usually an event's JSON, but possibly undecodable or schema-invalid, which can be why "
                           "it is here), except on the dead-letter topics of restricted topics: there it is sealed "
                           "under the consuming service's field keyring (AES-GCM, bound to the source topic, "
                           "partition and offset) and marked `dlq_sealed`, so no name or NIK stays readable on the "
                           "DLQ for its retention. The original headers are kept (a record without them is one "
                           "reason to be here) and the `dlq_*` headers added.",
            "headers": {"type": "object", "required": [f"{PREFIX}{name}" for name in DLQ_HEADERS],
                        "properties": properties},
            "payload": {"description": "The original record value, or its sealed token when `dlq_sealed` is "
                                       "present."},
            "correlationId": _ref("components", "correlationIds", CORRELATION),
            "bindings": {"kafka": {"key": {"type": "string", "description": "The original record's key, unchanged."},
                                   "bindingVersion": KAFKA_BINDING}},
        }


def _dead_letter_value(data_class: DataClass | None) -> str:
    if data_class is DataClass.RESTRICTED:
        return ("with the same key and headers and the value sealed under the consuming service's field keyring "
                "(`dlq_sealed`)")
    return "unchanged (same key, value and headers)"


def _envelope_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "CloudEvents Kafka binary-mode headers",
        "description": "The CloudEvents attributes as Kafka headers (UTF-8 text). A consumer rejects a record only "
                       "when ce_id, ce_source, ce_type or ce_specversion is missing or ce_specversion is not 1.0; "
                       "Simpul's producers send every header but traceparent and tracestate always, and so must a "
                       "district system publishing to Simpul.",
        "required": REQUIRED_HEADERS,
        "properties": copy.deepcopy(HEADERS),
    }


def _channel_binding(topic: TopicSpec) -> dict[str, Any]:
    return {
        "topic": topic.name,
        "partitions": topic.partitions,
        "topicConfiguration": {"cleanup.policy": sorted(topic.cleanup_policy.split(",")),
                               "retention.ms": topic.retention_ms},
        "bindingVersion": KAFKA_BINDING,
    }


def _key_text(model: type[Event], key: str) -> str:
    """The catalogue's key, and what the model says its key is (`Event.key`'s docstring)."""
    parts = key.split(":")
    catalogued = f"`{key}`" if len(parts) == 1 else f"`{key}` (the {' and '.join(parts)} joined by ':')"
    own = [klass.__dict__["key"] for klass in model.__mro__[:model.__mro__.index(Event)] if "key" in klass.__dict__]
    told = inspect.getdoc(own[0]) if own and isinstance(own[0], property) else None
    return f"The record key, UTF-8 text: {catalogued}, the aggregate id.{f' {told}' if told else ''}"


def _ref(*path: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in path)}


def _refs(node: Any) -> set[str]:
    """The `$defs` names a schema refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        own = {ref.removeprefix(DEFS_REF)} if isinstance(ref, str) and ref.startswith(DEFS_REF) else set()
        return own.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node))
    return set()


def _rewrite(node: Any, renamed: Mapping[str, str]) -> Any:
    """Point `#/$defs/X` references at the shared component schemas (only `$ref` values change)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(DEFS_REF):
            node = {**node, "$ref": _ref("components", "schemas", renamed[ref.removeprefix(DEFS_REF)])["$ref"]}
        return {key: _rewrite(value, renamed) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite(item, renamed) for item in node]
    return node
