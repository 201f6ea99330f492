"""What the FHIR façade states in its OpenAPI document, as the façade checks it: the Task search's parameters
(task-status codes, `gt<instant>`, an opaque cursor) and the Task a PUT sends (FHIR R4B, as read, with a new status).

Each pattern here is also what the route checks first, so the document and the refusals (400 OperationOutcomes)
never disagree. Times are stated from 1900 on with a valid calendar day, as the other services state them.
"""

from __future__ import annotations

import re
from typing import Any

from referral.adapters.fhir_mapping import TASK_STATUSES

_YEAR = r"(?:19[0-9]{2}|[2-9][0-9]{3})"
_LEAP_YEAR = (r"(?:19(?:0[48]|[2468][048]|[13579][26])|[2-9][0-9](?:0[48]|[2468][048]|[13579][26])"
              r"|(?:[2468][048]|[3579][26])00)")
DATE = (rf"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
        rf"|02-(?:0[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}-02-29)")
"""A calendar day from 1900-01-01 (a 29 February only in a leap year)."""
TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
OFFSET = r"(?:Z|[+-](?:0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)"
"""FHIR's time zone: Z or an offset from -14:00 to +14:00."""
INSTANT = rf"{DATE}T{TIME}{OFFSET}"

TASK_STATUS_CODES = sorted(TASK_STATUSES)
_CODE = "|".join(TASK_STATUS_CODES)  # letters and hyphens: nothing to escape
STATUS_LIST = re.compile(rf"^(?:{_CODE})(?:,(?:{_CODE}))*$")
"""`status`: one or more task-status codes, comma-separated, no spaces."""
LAST_UPDATED = re.compile(rf"^gt{DATE}(?:T{TIME}{OFFSET}?)?$")
"""`_lastUpdated`: the `gt` prefix and a date or a date and time (UTC when it names no offset)."""
CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
"""`_cursor`: URL-safe base64 without padding; only a cursor of a next link this API gave resumes a search."""
FHIR_ID = r"^[A-Za-z0-9.-]{1,64}$"
FHIR_ID_FORM = re.compile(FHIR_ID)

SEARCH_PARAMETERS: dict[str, dict[str, Any]] = {
    "status": {"pattern": STATUS_LIST.pattern, "description": "Task status codes "
               "(http://hl7.org/fhir/task-status), comma-separated; another value is a 400 OperationOutcome"},
    "_lastUpdated": {"pattern": LAST_UPDATED.pattern, "description": "gt<date or instant>: Tasks changed after it "
                     "(no offset: UTC); another prefix or form is a 400 OperationOutcome"},
    "_cursor": {"pattern": CURSOR.pattern, "description": "The opaque cursor of a next link this API gave; another "
                "value is a 400 OperationOutcome (its form alone does not make it one)"},
}
"""The JSON Schema of each Task search parameter beyond its length."""


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "additionalProperties": False, "minProperties": 1}
    return schema | ({"required": list(required)} if required else {})


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items, "minItems": 1}


# FHIR's string, uri and code patterns; \x85 (NEL), not white space to ECMA-262, is to FHIR's regular expressions.
_STRING = {"type": "string", "pattern": r"^(?:[ \r\n\t]|[^\s\x85])+$"}
_URI = {"type": "string", "pattern": r"^[^\s\x85]+$"}
_CODE_TYPE = {"type": "string", "pattern": r"^[^\s\x85]+( [^\s\x85]+)*$"}
_DATE_TIME = {"type": "string", "pattern": rf"^{DATE}(?:T{TIME}{OFFSET})?$"}
_INSTANT = {"type": "string", "pattern": f"^{INSTANT}$"}
_ID = {"type": "string", "pattern": FHIR_ID}
_CODING = _object({"system": _URI, "code": _CODE_TYPE, "display": _STRING})
_CODEABLE_CONCEPT = _object({"coding": _array(_CODING), "text": _STRING})
_IDENTIFIER = _object({"system": _URI, "value": _STRING})
_REFERENCE = _object({"reference": {"type": "string", "pattern": r"^[A-Z][A-Za-z]{1,63}/[A-Za-z0-9.-]{1,64}$"},
                      "type": _URI, "identifier": _IDENTIFIER, "display": _STRING})
_PERIOD = _object({"start": _DATE_TIME, "end": _DATE_TIME})
TASK_INTENTS = ("unknown", "proposal", "plan", "order", "original-order", "reflex-order", "filler-order",
                "instance-order", "option")

TASK_UPDATE: dict[str, Any] = {
    "title": "Task", "description": "A Task (FHIR R4B) as GET answered it, with a new status: `id` must be the "
    "id in the URL (400 otherwise), only status, statusReason and businessStatus may differ (422 names any other "
    "element changed); meta, lastModified, restriction, executionPeriod and output may be sent as read.",
    **_object({
        "resourceType": {"const": "Task"}, "id": _ID,
        "meta": _object({"versionId": _ID, "lastUpdated": _INSTANT}),
        "identifier": _array(_IDENTIFIER), "status": {"enum": TASK_STATUS_CODES}, "statusReason": _CODEABLE_CONCEPT,
        "businessStatus": _CODEABLE_CONCEPT, "intent": {"enum": list(TASK_INTENTS)}, "code": _CODEABLE_CONCEPT,
        "focus": _REFERENCE, "for": _REFERENCE, "authoredOn": _DATE_TIME, "lastModified": _DATE_TIME,
        "requester": _REFERENCE, "owner": _REFERENCE, "restriction": _object({"period": _PERIOD}),
        "executionPeriod": _PERIOD,
        "output": _array(_object({"type": _CODEABLE_CONCEPT, "valueCodeableConcept": _CODEABLE_CONCEPT},
                                 ("type", "valueCodeableConcept"))),
    }, ("resourceType", "id", "status", "intent")),
}
"""The body of `PUT /fhir/Task/{id}`: every element the façade's Task carries, each in its FHIR form."""

_PATCHED = {"type": "string", "pattern": r"^/(status|statusReason|businessStatus)(/[^/]*)*$"}
JSON_PATCH: dict[str, Any] = {
    "title": "JSON Patch", "description": "RFC 6902 operations on the Task's status, statusReason and "
    "businessStatus (422 names any other element); what the patched Task must be is the PUT body's rule.",
    "type": "array", "minItems": 1, "items": {"anyOf": [
        {"type": "object", "required": ["op", "path"], "properties": {"op": {"const": "remove"}, "path": _PATCHED}},
        {"type": "object", "required": ["op", "path", "value"],
         "properties": {"op": {"enum": ["add", "replace", "test"]}, "path": _PATCHED, "value": {}}}]}}
"""The body of `PATCH /fhir/Task/{id}`, as the route checks it before it reads the Task."""
