"""The FHIR façade's OpenAPI states what the façade takes (issue 13 point 15, schemathesis' two FHIR findings): the
Task search's status, _lastUpdated and _cursor are refused (400 OperationOutcome) exactly when the document's
pattern refuses them, and the body of a Task update is a Task as read (resourceType Task, status, intent, a FHIR id,
FHIR's forms of each element) where it was any object."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from .test_fhir_http import ME, client, refusal, search, tid, uow  # noqa: F401 (client and uow are fixtures)


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:  # noqa: F811
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    return document


def _pattern(document: dict[str, Any], name: str) -> str:
    [parameter] = [p for p in document["paths"]["/fhir/Task"]["get"]["parameters"] if p["name"] == name]
    pattern: str = parameter["schema"]["pattern"]
    return pattern


SEARCHES = [
    ("status", "requested", True), ("status", "requested,accepted,in-progress", True),
    ("status", "requested, accepted", False), ("status", "requested,", False), ("status", "done", False),
    ("_lastUpdated", "gt2020-01-01", True), ("_lastUpdated", "gt2026-03-02T09:00:00.5+07:00", True),
    ("_lastUpdated", "gt2024-02-29T00:00:00Z", True), ("_lastUpdated", "gt2026-03-02T09:00:00", True),
    ("_lastUpdated", "gt9999-12-31T23:59:59.999999-05:00", True),  # was a 500: one microsecond past year 9999
    ("_lastUpdated", "gt2026-02-29", False), ("_lastUpdated", "gt20260302", False),
    ("_lastUpdated", "gt2026-W10", False), ("_lastUpdated", "gt1899-12-31", False),
    ("_lastUpdated", "lt2020-01-01", False), ("_cursor", "no pe!", False), ("_cursor", "n0p3", None),
]
"""(parameter, value, whether the façade takes it; None: the document's form, but only the API can tell)."""


@pytest.mark.parametrize(("name", "value", "taken"), SEARCHES)
async def test_the_task_search_refuses_what_its_document_refuses(
        client: httpx.AsyncClient, name: str, value: str, taken: bool | None) -> None:  # noqa: F811
    stated = re.search(_pattern(await _document(client), name), value) is not None
    answer = await client.get("/fhir/Task", params={name: value}, headers=ME)
    assert (stated, answer.status_code) == (taken is not False, 200 if taken else 400), answer.text
    if not taken:
        assert refusal(answer, 400).issue[0].expression == [name]


async def test_the_cursor_of_a_next_link_has_the_documented_form(client: httpx.AsyncClient) -> None:  # noqa: F811
    next_url = next(link.url for link in (await search(client, _count=1)).link if link.relation == "next")
    cursor = httpx.URL(next_url).params["_cursor"]
    assert re.search(_pattern(await _document(client), "_cursor"), cursor)
    assert (await client.get(next_url, headers=ME)).status_code == 200


async def test_a_task_update_is_documented_as_the_task_the_facade_reads(client: httpx.AsyncClient) -> None:  # noqa: F811
    document = await _document(client)
    operation = document["paths"]["/fhir/Task/{task_id}"]["put"]
    validator = Draft202012Validator(operation["requestBody"]["content"]["application/fhir+json"]["schema"])
    task = (await client.get(f"/fhir/Task/{tid(4)}", headers=ME)).json()
    assert not list(validator.iter_errors(task))  # what a provider read, it may send back
    assert not list(validator.iter_errors(task | {"status": "rejected", "statusReason": {"coding": [
        {"system": "https://simpul.id/fhir/CodeSystem/decline-reason", "code": "no_capacity"}]}}))
    refused = [{}, task | {"resourceType": "Patient"}, {k: v for k, v in task.items() if k != "intent"},
               task | {"priority": "urgent"}, task | {"id": "ref_1"}, task | {"status": "done"}]
    for body in refused:  # the façade refuses each (400 or 422), and so does the document
        assert list(validator.iter_errors(body)), body
    [path_id] = [p for p in operation["parameters"] if p["name"] == "task_id"]
    assert re.search(path_id["schema"]["pattern"], tid(4))
    assert not re.search(path_id["schema"]["pattern"], "a_b")


async def test_a_json_patch_is_documented_and_checked_before_its_preconditions(
        client: httpx.AsyncClient) -> None:  # noqa: F811
    document = await _document(client)
    content = document["paths"]["/fhir/Task/{task_id}"]["patch"]["requestBody"]["content"]
    validator = Draft202012Validator(content["application/json-patch+json"]["schema"])
    assert not list(validator.iter_errors([{"op": "replace", "path": "/status", "value": "accepted"},
                                           {"op": "remove", "path": "/statusReason"}]))
    for operations in ([], [{"op": "move", "path": "/status"}], [{"op": "add", "path": "/status"}],
                       [{"op": "replace", "path": "/owner", "value": {}}], [{"path": "/status", "value": 1}]):
        assert list(validator.iter_errors(operations)), operations
        answer = await client.patch(f"/fhir/Task/{tid(4)}", json=operations, headers=ME | {
            "Content-Type": "application/json-patch+json", "If-Match": "not-a-version"})
        assert answer.status_code in (400, 422), (operations, answer.text)  # the body's fault, not a 412
