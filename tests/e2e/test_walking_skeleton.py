"""The skeleton flow on the real broker and PostgreSQL: registry -> identity -> registry and reporting, traced."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from simpul_contracts.events import ChildUpdatedV1
from simpul_platform.auth import Role
from simpul_platform.topic_reader import read_topic
from tests.support.stack import KESILIR, eventually, running, settings_for, token

CADRE = token(Role.CADRE, KESILIR)
MINISTRY = token(Role.MINISTRY)
CHILD = {"full_name": "Siti Aminah", "sex": "female", "village_code": KESILIR,
         "birth_date": "2014-03-02", "birth_date_precision": "day"}


def _stack_settings(database: Callable[[str], str], bootstrap: str, namespace: str) -> dict[str, object]:
    extra = {"reporting": {"min_cell_size": 1}}
    return {
        name: settings_for(name, database(name), bootstrap, namespace, **extra.get(name, {}))
        for name in ("registry", "identity", "reporting", "referral")
    }


async def test_child_flows_to_identity_registry_and_reporting_in_one_trace(
    any_store: Callable[[str], str], kafka_bootstrap: str, namespace: str, spans: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
) -> None:
    async with running(_stack_settings(any_store, kafka_bootstrap, namespace)) as stack:
        registry, reporting = stack.clients["registry"], stack.clients["reporting"]
        created = await registry.post("/children", json=CHILD, headers=CADRE)
        assert created.status_code == 201, created.text
        child_id = created.json()["child_id"]
        assert created.json()["person_id"] is None

        async def linked() -> str | None:
            child = (await registry.get(f"/children/{child_id}", headers=CADRE)).json()
            return child["person_id"]

        person_id = await eventually(linked)
        assert person_id.startswith("per_")

        async def announced() -> bool:  # readers of the pseudonymous child stream learn the person id too
            records = await read_topic(kafka_bootstrap, namespace + ChildUpdatedV1.topic)
            updates = [json.loads(r.value) for r in records
                       if dict(r.headers).get("ce_type") == ChildUpdatedV1.event_type.encode()]
            return any((u["child_id"], u["person_id"]) == (child_id, person_id) for u in updates)

        await eventually(announced)

        async def counted() -> list[dict[str, object]] | None:
            feed = (await reporting.get("/indicators/registered-children", headers=MINISTRY)).json()
            return feed["villages"] or None

        villages = await eventually(counted)
        assert villages == [{"village_code": KESILIR, "children": 1, "suppressed": False}]

        # The same child registered again (another record) is the same person: still counted once.
        again = await registry.post("/children", json=CHILD | {"source_record_id": "survey-17"}, headers=CADRE)
        second = again.json()["child_id"]

        async def second_linked() -> str | None:
            return (await registry.get(f"/children/{second}", headers=CADRE)).json()["person_id"]

        assert await eventually(second_linked) == person_id
        assert (await counted()) == [{"village_code": KESILIR, "children": 1, "suppressed": False}]

    _assert_one_trace(spans, namespace)
    _assert_delivery_metrics(metric_reader, namespace)


def _points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    data = reader.get_metrics_data()
    return [point for rm in data.resource_metrics for sm in rm.scope_metrics for metric in sm.metrics
            if metric.name == name for point in metric.data.data_points]


def _assert_delivery_metrics(reader: InMemoryMetricReader, namespace: str) -> None:
    published = {p.attributes["topic"]: p.value for p in _points(reader, "simpul.events.published")}
    assert published[f"{namespace}registry.child-identity.v1"] == 2  # two records of the same child
    assert published[f"{namespace}identity.link.v1"] == 2
    consumed = {p.attributes["consumer"]: p.value for p in _points(reader, "simpul.events.consumed")}
    assert consumed.get(f"{namespace}reporting", 0) >= 2
    lag = [p for p in _points(reader, "simpul.consumer.lag") if p.attributes["consumer"] == f"{namespace}reporting"]
    assert lag, "consumer lag was not recorded"
    assert all(p.value >= 0 for p in lag)


def _assert_one_trace(spans: InMemorySpanExporter, namespace: str) -> None:
    finished = spans.get_finished_spans()
    request = next(s for s in finished if s.name == "POST /children" and s.kind.name == "SERVER")
    trace_id = request.context.trace_id
    in_trace = {s.name for s in finished if s.context.trace_id == trace_id}
    expected = {
        f"{namespace}registry.child-identity.v1 publish",  # registry's outbox relay
        f"{namespace}registry.child-identity.v1 process",  # identity's consumer
        f"{namespace}identity.link.v1 publish",  # identity's outbox relay
        f"{namespace}identity.link.v1 process",  # registry's, reporting's and referral's consumers
    }
    assert expected <= in_trace, f"missing from the trace: {expected - in_trace}"
    assert any(s.attributes.get("db.system") for s in finished if s.context.trace_id == trace_id
               and s.name.startswith(("INSERT", "SELECT", "UPDATE"))), "no SQL spans in the trace"
