"""The committed AsyncAPI documents are valid for the official parser (`@asyncapi/parser`, installed from npm) and
say what the services really put on the wire: one message per event type with its object payload, the CloudEvents
headers the producers send (`ce_type` fixed per message), `correlationId` on a header that is sent, the record key,
the dead-letter channels with the headers the platform adds, and `send`/`receive` operations per service."""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from simpul import api_documents
from simpul_contracts import event_types
from simpul_contracts.events import ChildClassifiedV1
from simpul_infra.asyncapi_parser import Validation
from simpul_infra.catalogue import load_catalogue
from simpul_platform.dead_letters import DeadLetters

DOCUMENTS = sorted((api_documents.CONTRACTS / "asyncapi").glob("*.yaml"))
COMPONENT_KEY = re.compile(r"^[a-zA-Z0-9\.\-_]+$")
Validate = Callable[..., Validation]


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def _document(service: str) -> dict[str, Any]:
    return _load(api_documents.CONTRACTS / "asyncapi" / f"{service}.yaml")


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> Any:
    """What a `$ref` points at, following references to references."""
    target: Any = document
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return _resolve(document, target) if isinstance(target, dict) and "$ref" in target else target


def _validator(document: dict[str, Any], pointer: str) -> Draft7Validator:
    # The document is the root, so `#/components/...` references inside the schema resolve in it.
    return Draft7Validator({**document, "$ref": pointer})


def test_there_is_a_document_per_service() -> None:
    assert [path.stem for path in DOCUMENTS] == sorted(["registry", "identity", "referral", "reporting"])


def _verdicts(output: str) -> dict[str, str]:
    """The script's last line per document: `<path>: valid AsyncAPI 3.0.0` or `<path>: INVALID (...)`."""
    found = re.findall(r"^(\S+): (valid AsyncAPI \S+|INVALID .*)$", output, flags=re.MULTILINE)
    return {Path(path).stem: verdict for path, verdict in found}


def test_the_official_parser_accepts_every_committed_document(asyncapi_validator: Validate) -> None:
    result = asyncapi_validator(*DOCUMENTS)  # one run: starting the parser costs seconds
    assert result.valid, result.output
    assert _verdicts(result.output) == {path.stem: "valid AsyncAPI 3.0.0" for path in DOCUMENTS}


def _colon_in_a_component_key(document: dict[str, Any]) -> None:
    messages = document["components"]["messages"]
    messages["identity.link.v1:Message"] = messages.pop("simpul.identity.record-linked.v1")
    for channel in document["channels"].values():
        for message in channel["messages"].values():
            if message["$ref"].endswith("/simpul.identity.record-linked.v1"):
                message["$ref"] = "#/components/messages/identity.link.v1:Message"


def _payload_pointing_nowhere(document: dict[str, Any]) -> None:
    message = document["components"]["messages"]["simpul.identity.record-linked.v1"]
    message["payload"] = {"$ref": "#/components/schemas/NoSuchSchema"}


def _zero_partitions(document: dict[str, Any]) -> None:
    document["channels"]["identity.link.v1"]["bindings"]["kafka"]["partitions"] = 0


BROKEN = {"colon": _colon_in_a_component_key, "dangling": _payload_pointing_nowhere, "partitions": _zero_partitions}


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, asyncapi_validator: Validate) -> Validation:
    """One parser run over broken copies of the identity document, one fault each."""
    directory = tmp_path_factory.mktemp("broken-asyncapi")
    paths = []
    for name, change in BROKEN.items():
        document = copy.deepcopy(_document("identity"))
        change(document)
        paths.append(directory / f"{name}.yaml")
        paths[-1].write_text(yaml.safe_dump(document, sort_keys=True), encoding="utf-8")
    return asyncapi_validator(*paths)


def _diagnostics(result: Validation, name: str) -> str:
    return "\n".join(line for line in result.output.splitlines() if f"/{name}.yaml" in line)


def test_the_parser_refuses_a_broken_copy(broken: Validation) -> None:
    assert not broken.valid
    assert {name: verdict.split()[0] for name, verdict in _verdicts(broken.output).items()} == dict.fromkeys(
        BROKEN, "INVALID"), broken.output


def test_the_parser_names_a_component_key_with_a_colon(broken: Validation) -> None:
    found = _diagnostics(broken, "colon")
    assert "component-key" in found, found
    assert "components/messages/identity.link.v1:Message" in found, found


def test_the_parser_names_a_payload_pointing_nowhere(broken: Validation) -> None:
    found = _diagnostics(broken, "dangling")
    assert "NoSuchSchema" in found, found


def test_the_parser_names_a_binding_the_kafka_binding_does_not_allow(broken: Validation) -> None:
    found = _diagnostics(broken, "partitions")
    assert "partitions" in found, found


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_every_component_key_is_one_the_specification_allows(path: Path) -> None:
    components = _load(path)["components"]
    bad = [f"{kind}/{key}" for kind, entries in components.items() for key in entries if not COMPONENT_KEY.match(key)]
    assert bad == []


def test_each_event_type_is_one_message_with_its_object_payload_and_its_ce_type_fixed() -> None:
    registry = _document("registry")
    child = registry["channels"]["registry.child.v1"]
    on_topic = sorted(m.event_type for m in event_types().values() if m.topic == "registry.child.v1")
    assert len(on_topic) == 7  # registered, updated, classified, case status, consent, visit, erased
    assert sorted(child["messages"]) == on_topic
    for event_type in on_topic:
        message = _resolve(registry, child["messages"][event_type])
        assert message["name"] == event_type
        payload = _resolve(registry, message["payload"])
        assert payload["type"] == "object"
        assert "properties" in payload
        assert message["headers"]["properties"]["ce_type"]["const"] == event_type


def test_a_real_event_and_its_headers_match_its_message() -> None:
    registry = _document("registry")
    event = ChildClassifiedV1(
        child_id="chd_1", person_id=None, sex="female", birth_year=2014, village_code="35.09.11.2007",
        case_id="cas_1", classification="at_risk", previous="child_labourer", reason="reclassified",
        status="monitoring", classified_at=datetime(2025, 6, 1, tzinfo=UTC), classified_by="kader-1",
    )
    pointer = f"#/components/messages/{event.event_type}"
    headers = dict(event.envelope().header_values())
    headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    _validator(registry, f"{pointer}/headers").validate(headers)
    _validator(registry, f"{pointer}/payload").validate(event.model_dump(mode="json"))

    other = {**headers, "ce_type": "simpul.registry.child-registered.v1"}
    with pytest.raises(ValidationError, match=r"is not one of|was expected"):
        _validator(registry, f"{pointer}/headers").validate(other)
    with pytest.raises(ValidationError):
        _validator(registry, f"{pointer}/headers").validate({k: v for k, v in headers.items() if k != "ce_id"})
    with pytest.raises(ValidationError):
        _validator(registry, f"{pointer}/payload").validate([event.model_dump(mode="json")])


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_the_correlation_id_is_a_header_every_event_carries(path: Path) -> None:
    document = _load(path)
    sent = set(ChildClassifiedV1.model_construct().envelope(subject="x").header_values())
    for message in document["components"]["messages"].values():
        correlation = _resolve(document, message["correlationId"])
        location = correlation["location"]
        assert location.startswith("$message.header#/")
        assert location.removeprefix("$message.header#/") in sent


def test_the_message_key_and_the_channel_binding_come_from_the_catalogue() -> None:
    catalogue = {topic.name: topic for topic in load_catalogue(api_documents.CONTRACTS / "topics.yaml").topics}
    for path in DOCUMENTS:
        document = _load(path)
        for name, channel in document["channels"].items():
            binding = channel["bindings"]["kafka"]
            topic = catalogue.get(name.removesuffix(".dlq"))
            assert topic is not None, name
            assert channel["address"] == binding["topic"] == name
            if name.endswith(".dlq"):
                continue
            assert binding["partitions"] == topic.partitions
            assert binding["topicConfiguration"] == {"cleanup.policy": sorted(topic.cleanup_policy.split(",")),
                                                     "retention.ms": topic.retention_ms}
            for ref in channel["messages"].values():
                key = _resolve(document, ref)["bindings"]["kafka"]["key"]
                assert key["type"] == "string"
                assert topic.key in key["description"]
    child_referral = _document("registry")["channels"]["registry.child-referral.v1"]["bindings"]["kafka"]
    assert child_referral["topicConfiguration"]["cleanup.policy"] == ["compact"]


class _CapturingBroker:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}

    async def publish(self, value: bytes, *, topic: str, key: bytes | None, headers: dict[str, str]) -> None:
        self.headers = headers


class _Record:
    topic, partition, offset, key, value, headers = "identity.link.v1", 0, 7, b"k", b"{}", [("ce_id", b"1")]


def test_dead_letter_channels_carry_the_headers_the_platform_adds() -> None:
    broker = _CapturingBroker()
    asyncio.run(DeadLetters(broker, "registry").send(_Record(), ValueError("x: bad"), attempts=3))  # type: ignore[arg-type]
    added = {name for name in broker.headers if name.startswith("dlq_")}
    assert len(added) == 8
    registry = _document("registry")
    dlq = registry["channels"]["identity.link.v1.dlq"]
    (ref,) = dlq["messages"].values()
    message = _resolve(registry, ref)
    assert set(message["headers"]["required"]) == added
    assert added <= set(message["headers"]["properties"])
    _validator(registry, f"{ref['$ref']}/headers").validate(broker.headers)


def test_operations_send_what_the_service_owns_and_receive_what_it_consumes() -> None:
    def operations(service: str) -> dict[str, tuple[str, str]]:
        document = _document(service)
        return {key: (op["action"], _resolve(document, op["channel"])["address"])
                for key, op in document["operations"].items()}

    identity = operations("identity")
    assert identity["send.identity.link.v1"] == ("send", "identity.link.v1")
    assert identity["send.identity.person.v1"] == ("send", "identity.person.v1")
    assert identity["receive.registry.child-identity.v1"] == ("receive", "registry.child-identity.v1")
    assert identity["dead-letter.registry.child-identity.v1"] == ("send", "registry.child-identity.v1.dlq")
    assert not [key for key, (action, address) in identity.items()
                if action == "send" and not address.startswith("identity.") and not address.endswith(".dlq")]

    registry = _document("registry")
    receive = registry["operations"]["receive.identity.link.v1"]
    assert [_resolve(registry, m)["name"] for m in receive["messages"]] == ["simpul.identity.record-linked.v1"]
    assert receive["bindings"]["kafka"]["groupId"]["const"] == "registry:identity.link.v1"
    assert "send.identity.link.v1" not in registry["operations"]


def test_every_event_type_is_sent_in_its_owners_document() -> None:
    owners = {topic.name: topic.owner for topic in load_catalogue(api_documents.CONTRACTS / "topics.yaml").topics}
    for model in event_types().values():
        document = _document(owners[model.topic])
        sent = document["operations"][f"send.{model.topic}"]
        assert sent["action"] == "send"
        assert model.event_type in [_resolve(document, m)["name"] for m in sent["messages"]]
        assert _resolve(document, document["components"]["messages"][model.event_type]["payload"])["title"] == \
            model.__name__
