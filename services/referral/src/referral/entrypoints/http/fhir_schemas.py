"""The FHIR façade's HTTP shapes: FHIR JSON answers, OperationOutcome errors, the CapabilityStatement, searchset
Bundles, and the parsing of what a provider sends (a Task body, a JSON Patch on a Task's status).

Everything emitted is built as a `fhir.resources` R4B model, so an invalid resource fails here, never at a client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from fastapi import Response
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.task import Task
from pydantic import ValidationError

from referral.adapters.fhir_mapping import FHIR_VERSION

MEDIA_TYPE = "application/fhir+json"
PATCH_MEDIA_TYPE = "application/json-patch+json"
PATCHABLE = ("status", "statusReason", "businessStatus")
"""The elements of a Task a provider may change (PATCH or PUT): everything else is the district's referral."""
DERIVED = ("meta", "text", "lastModified", "restriction", "executionPeriod", "output")
"""The elements the server derives from the referral's state (its version, steps, deadline, services): a PUT may
send them as it read them, changed or not; they follow the status."""
STATEMENT_DATE = "2026-12-01"
"""When this CapabilityStatement last changed."""


class FhirError(Exception):
    """A refusal on a FHIR route, answered as an OperationOutcome: HTTP status, issue type, why, and where."""

    def __init__(self, status: int, code: str, diagnostics: str, expression: Sequence[str] = (),
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics = status, code, diagnostics
        self.expression, self.headers = tuple(expression), headers or {}


def fhir_response(resource: Resource, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A resource as FHIR JSON."""
    return Response(resource.model_dump_json(), status, headers, media_type=MEDIA_TYPE)


def outcome(error: FhirError) -> OperationOutcome:
    """The OperationOutcome of a refusal: one error issue naming the element (FHIRPath) when one is at fault."""
    issue: dict[str, Any] = {"severity": "error", "code": error.code, "diagnostics": error.diagnostics}
    if error.expression:
        issue["expression"] = list(error.expression)
    return OperationOutcome.model_validate({"issue": [issue]})


def capability_statement() -> CapabilityStatement:
    """What the façade serves: Task (read, search, patch, update) and ServiceRequest (read), JSON only."""
    task = {"type": "Task", "versioning": "versioned-update", "readHistory": False, "updateCreate": False,
            "conditionalUpdate": False,
            "interaction": [{"code": code} for code in ("read", "search-type", "patch", "update")],
            "searchParam": [
                {"name": "owner", "type": "reference", "documentation": "Organization/<your provider id>: only "
                                                                        "your own Tasks are found"},
                {"name": "status", "type": "token", "documentation": "Task status codes, comma-separated"},
                {"name": "_lastUpdated", "type": "date", "documentation": "gt<instant>: changed after it"},
                {"name": "_count", "type": "number", "documentation": "page size, 1 to 100 (default 50)"}]}
    service_request = {"type": "ServiceRequest", "versioning": "versioned", "interaction": [{"code": "read"}]}
    return CapabilityStatement.model_validate({
        "status": "active", "date": STATEMENT_DATE, "kind": "instance", "fhirVersion": FHIR_VERSION,
        "publisher": "Simpul (SPRPA)", "format": [MEDIA_TYPE], "patchFormat": [PATCH_MEDIA_TYPE],
        "software": {"name": "Simpul referral", "version": "0.1.0"},
        "implementation": {"description": "A provider's referrals as Task + ServiceRequest (Gravity SDOH "
                                          "closed-loop referral pattern)"},
        "rest": [{"mode": "server", "resource": [task, service_request],
                  "security": {"cors": False, "description": "OAuth 2.0 bearer token of a provider "
                               "(client credentials, POST /oauth/token): role provider, scoped to its provider id",
                               "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                        "restful-security-service", "code": "OAuth"}]}]}}]})


def searchset(base: str, tasks: Sequence[Task], self_url: str, next_url: str | None, total: int | None) -> Bundle:
    """A page of Tasks as a searchset Bundle (`total` only when the server knows it)."""
    links = [{"relation": "self", "url": self_url}] + ([{"relation": "next", "url": next_url}] if next_url else [])
    bundle: dict[str, Any] = {"type": "searchset", "link": links, "entry": [
        {"fullUrl": f"{base}Task/{t.id}", "resource": t, "search": {"mode": "match"}} for t in tasks]}
    if total is not None:
        bundle["total"] = total
    return Bundle.model_validate(bundle)


def parse_task(body: object) -> Task:
    """A Task a provider sent, validated by fhir.resources; 400 naming every element at fault."""
    if not isinstance(body, dict):
        raise FhirError(400, "structure", "the body is not a JSON object")
    if body.get("resourceType") != "Task":
        raise FhirError(400, "structure", "resourceType: must be Task", ["Task.resourceType"])
    try:
        return Task.model_validate(body)
    except ValidationError as error:
        paths = [_path(e["loc"]) for e in error.errors()]
        reasons = "; ".join(f"{path}: {e['msg']}" for path, e in zip(paths, error.errors(), strict=True))
        raise FhirError(400, "structure", reasons, paths) from None


def _path(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a FHIRPath (`Task.statusReason.coding[0].code`)."""
    path = "Task"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else "." + ("for" if part == "for_fhir" else str(part))
    return path


def changed_elements(current: Task, wanted: Task) -> list[str]:
    """The elements a PUT would change that are neither patchable nor derived."""
    ignored = {*PATCHABLE, *DERIVED}
    before, after = _elements(current), _elements(wanted)
    return sorted(f"Task.{name}" for name in (before.keys() | after.keys()) - ignored
                  if before.get(name) != after.get(name))


def _elements(resource: Task) -> dict[str, Any]:
    document: dict[str, Any] = resource.model_dump(mode="json")
    return document


def check_patch(operations: object) -> None:
    """A JSON Patch's form (RFC 6902 operations on the patchable elements), checked before the Task is read."""
    if not isinstance(operations, list) or not operations:
        raise FhirError(400, "structure", "a JSON Patch is a non-empty array of operations")
    for number, operation in enumerate(operations):
        _checked(operation, number)


def apply_patch(document: dict[str, Any], operations: object) -> dict[str, Any]:
    """A JSON Patch (RFC 6902: add, remove, replace, test) applied to a Task's JSON, only on the patchable elements."""
    if not isinstance(operations, list) or not operations:
        raise FhirError(400, "structure", "a JSON Patch is a non-empty array of operations")
    patched: dict[str, Any] = _copy(document)
    for number, operation in enumerate(operations):
        patched = _apply(patched, operation, number)
    return patched


def _apply(document: dict[str, Any], operation: object, number: int) -> dict[str, Any]:
    op, pointer, value = _checked(operation, number)
    parent, last = _parent(document, pointer, number)
    if op == "test":
        if _child(parent, last, number) != value:
            raise FhirError(409, "conflict", f"operation {number}: the test failed", [f"Task.{pointer[0]}"])
    elif op == "remove":
        _child(parent, last, number)
        del parent[int(last) if isinstance(parent, list) else last]
    elif isinstance(parent, list):
        index = len(parent) if last == "-" else _index(last, len(parent) + (op == "add"), number)
        parent[index:index + (op == "replace")] = [value]
    else:
        if op == "replace":
            _child(parent, last, number)
        parent[last] = value
    return document


def _checked(operation: object, number: int) -> tuple[str, list[str], Any]:
    """An operation's op, path (as pointer parts) and value, refused unless it touches a patchable element."""
    if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
        raise FhirError(400, "structure", f"operation {number}: needs an op and a path")
    op, pointer = operation.get("op"), _pointer(operation["path"], number)
    if op not in ("add", "remove", "replace", "test"):
        raise FhirError(400, "not-supported", f"operation {number}: op must be add, remove, replace or test")
    if pointer[0] not in PATCHABLE:
        raise FhirError(422, "business-rule", f"operation {number}: only {', '.join(PATCHABLE)} may be patched",
                        [f"Task.{pointer[0]}"])
    if op != "remove" and "value" not in operation:
        raise FhirError(400, "structure", f"operation {number}: {op} needs a value")
    return str(op), pointer, operation.get("value")


def _pointer(path: str, number: int) -> list[str]:
    if not path.startswith("/") or path == "/":
        raise FhirError(400, "structure", f"operation {number}: path must be a JSON Pointer below the Task")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _parent(document: dict[str, Any], pointer: list[str], number: int) -> tuple[Any, str]:
    node: Any = document
    for part in pointer[:-1]:
        node = _child(node, part, number)
    if not isinstance(node, dict | list):
        raise FhirError(400, "structure", f"operation {number}: the path goes through a value")
    return node, pointer[-1]


def _child(node: Any, part: str, number: int) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list):
        return node[_index(part, len(node), number)]
    raise FhirError(400, "structure", f"operation {number}: the path names nothing in the Task")


def _index(part: str, size: int, number: int) -> int:
    if not part.isdigit() or int(part) >= size:
        raise FhirError(400, "structure", f"operation {number}: no such array index")
    return int(part)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def instant(value: str, field: str) -> dt.datetime:
    """A FHIR date or instant (a date means its start, UTC); 400 otherwise."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise FhirError(400, "value", f"{field}: not a FHIR date or instant", [field]) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
