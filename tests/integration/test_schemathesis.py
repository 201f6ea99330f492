"""Schemathesis on every service's OpenAPI: positive and negative cases, every response-conformance check on.

Each service runs as users run it: its bootstrap's app, migrated on start, on PostgreSQL (SQLite, the embedded
default, when asked) and the session broker, reached in-process through schemathesis' ASGI transport (which runs
the app's lifespan once per test). Every operation of the document the app serves gets EXAMPLES cases from a fixed
seed, positive and negative drawn together as `schemathesis run --max-examples EXAMPLES` draws them (one Hypothesis
test per operation over both modes), sent with a valid token for its route (a district officer; a provider's token
on the provider API and the FHIR façade), and every check schemathesis has is on: no 5xx, status codes,
content types, headers and bodies as documented, schema-valid data accepted, schema-invalid data refused, auth
enforced, required headers required.

Two statuses are expected of schema-valid data beyond schemathesis' own (2xx, 401, 403, 404, 409, 429): 412, since an
If-Match the document allows is refused when it is not the record's current ETag (RFC 9110 §13.1.1; no document
can know it), and 422 when every error is one of RELATIVE_RULES: rules over today's date, between the path and the
body, or over state only the API holds, which JSON Schema cannot state (the documents say them in descriptions).
Undeclared query parameters are not sent: they are ignored, as HTTP APIs do, and no case of bad input.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import positive_data_acceptance

from referral import bootstrap as referral_bootstrap
from referral.adapters.fhir_mapping import fhir_id
from referral.domain.commands.referrals import IssueReferral
from referral.service_layer.handlers.referrals import issue_referral
from simpul.services import SERVICES
from simpul_platform.auth import Role, mint_token
from simpul_platform.migrations import upgrade
from simpul_platform.settings import DEV_SECRET
from simpul_platform.unit_of_work import execute
from tests.conftest import fresh_namespace
from tests.support.referral_directory import DISTRICT, OFFICER, SERVICE_TYPE, GateState, provider_in_state

pytestmark = [
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),  # schemathesis' own
    pytest.mark.filterwarnings("ignore:Generating overly large repr"),
]
# The issue's run: 20 cases per operation, positive and negative together.
EXAMPLES = int(os.environ.get("SIMPUL_SCHEMATHESIS_EXAMPLES", "20"))
# PostgreSQL in the test command; SIMPUL_SCHEMATHESIS_STORES=postgresql,sqlite adds the embedded default.
STORES = os.environ.get("SIMPUL_SCHEMATHESIS_STORES", "postgresql").split(",")
SEED = 20261201
RUN = settings(
    max_examples=EXAMPLES,
    database=None,
    deadline=None,
    print_blob=False,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: every failure is reported as found, within the budget
    suppress_health_check=list(HealthCheck),
)
PROVIDER_SCOPES = ("referrals:read", "referrals:write", "services:write", "webhooks", "fhir")
# (field, reason; None: any) of refusals no JSON Schema can state: relative to today, comparing two fields, an
# opaque cursor only the API can tell, a host name only DNS can tell, a survey file's layout
# (docs/registry-import.md).
RELATIVE_RULES = {
    ("birth_date", "Value error, is in the future"),
    ("at", "Value error, is in the future"),
    ("visited_on", "is in the future"),
    ("documents.expires_on", "the expiry day must come after the first valid day"),
    ("cursor", "not a cursor this API gave"),
    ("updated_since", "not a cursor this API gave"),
    ("into_person_id", "a person cannot be merged into itself"),  # the path's person and the body's
    ("Idempotency-Key", "this key was already used with another request; use a new key"),  # an earlier request's
    ("service_type", None),  # the service type list is data (GET /service-types), not the document's
    ("village_code", "not a current village in the region reference data"),  # its form is stated; the list is data
    ("url", None),  # its form is stated (a pattern); what is left is whether and where the host resolves
    ("file", None),
}
# (expression, diagnostics) of the FHIR façade's refusals of the same kind: a 400 OperationOutcome, as FHIR R4's http
# page has them (an update whose Task.id is not the URL's id; a search parameter's value the server cannot use).
FHIR_RELATIVE_RULES = {
    ("Task.id", "Task.id: must be the id in the URL"),  # the path's id and the body's
    ("_cursor", "_cursor: not a cursor of a next link we gave"),  # its form is stated (a pattern)
}


# Findings not fixed yet, each with what is wrong: reported on every run, and the test fails once one is fixed
# (so that it leaves this list) or when anything else fails.
OPEN_FINDINGS: dict[tuple[str, str], str] = {}


def _token(path: str, provider_id: str) -> str:
    if path.startswith(("/provider/", "/fhir/")):
        return mint_token(DEV_SECRET, "schemathesis", Role.PROVIDER, [provider_id], permissions=PROVIDER_SCOPES)
    return mint_token(DEV_SECRET, "schemathesis", Role.DISTRICT_OFFICER, ["35"])


async def _referred_provider(settings_: Any) -> dict[str, str]:
    """An eligible provider with a referral issued to it, in referral's database, so that the provider API and the
    FHIR façade answer with data (their token is this provider's): the ids, by the path parameter naming each."""
    await upgrade(settings_.resolved_database_url(), referral_bootstrap.MIGRATIONS)  # the app finds them done
    wiring = referral_bootstrap.wire(settings_)
    try:
        now = wiring.clock()
        provider_id = await provider_in_state(wiring.unit_of_work, GateState.ELIGIBLE, on=now.date())
        referral_id = f"ref_{uuid.uuid4().hex}"
        await execute(wiring.unit_of_work(), issue_referral, IssueReferral(
            OFFICER, referral_id, "chd_schemathesis", "per_schemathesis", DISTRICT, provider_id,
            (SERVICE_TYPE,), now, consent_override_reason="a fuzzing run's seed"))
    finally:
        await wiring.runtime.database.dispose()
    task_id = fhir_id(referral_id)
    return {"provider_id": provider_id, "referral_id": referral_id, "task_id": task_id, "request_id": task_id}


def _schema(app: Any, provider_id: str = "prv_schemathesis") -> Any:
    config = schemathesis.Config.from_dict({
        "generation": {"allow-extra-parameters": False},
        "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429"]}},
    })
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)

    @schema.auth(refresh_interval=None)
    class Tokens:
        def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
            return _token(context.operation.path, provider_id)

        def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema


def _relative_refusal(case: schemathesis.Case, response: Any) -> bool:
    """A 422 to schema-valid data that only a rule the document cannot state explains."""
    if response.status_code != 422 or case.meta is None or not case.meta.generation.mode.is_positive:
        return False
    errors = json.loads(response.content).get("errors") or [{}]
    return all({(error.get("field"), error.get("reason")), (error.get("field"), None)} & RELATIVE_RULES
               for error in errors)


def _fhir_relative_refusal(case: schemathesis.Case, response: Any) -> bool:
    """A FHIR 400 to schema-valid data that only a rule the document cannot state explains."""
    if (response.status_code != 400 or case.meta is None or not case.meta.generation.mode.is_positive
            or not (response.headers.get("content-type") or [""])[0].startswith("application/fhir+json")):
        return False
    issues = json.loads(response.content).get("issue") or [{}]
    return all(((issue.get("expression") or [None])[0], issue.get("diagnostics")) in FHIR_RELATIVE_RULES
               for issue in issues)


def _conforms(case: schemathesis.Case) -> None:
    response = case.call()
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and response.status_code == 422 and not _relative_refusal(case, response):
        raise AssertionError(f"schema-valid data refused: {response.text}\n{case.as_curl_command()}")
    excused = [positive_data_acceptance] if _fhir_relative_refusal(case, response) else []
    case.validate_response(response, excluded_checks=excused)


def _with_path(ids: dict[str, str], case: schemathesis.Case) -> schemathesis.Case:
    case.path_parameters = {**(case.path_parameters or {}), **ids}
    return case


def _cases(operation: Any, seeded: dict[str, str]) -> Any:
    """Positive and negative cases; half the positive ones of an operation on a seeded record name that record.

    Not for a JSON Patch: what an operation of it does depends on the resource it patches, not on the document."""
    positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    ids = {p.name: seeded[p.name] for p in operation.path_parameters if p.name in seeded}
    if ids and operation.method.upper() != "PATCH":
        positive = st.one_of(positive, positive.map(partial(_with_path, ids)))
    # An operation with nothing that can be invalid (no parameters, no body) draws positive cases only.
    return st.one_of(positive, operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))


def _check(operation: Any, seeded: dict[str, str]) -> str | None:
    """What is wrong with the operation's answers to EXAMPLES cases, positive and negative, or None."""
    cases = _cases(operation, seeded)

    @seed(SEED)
    @RUN
    @given(case=cases)
    def conforms(case: schemathesis.Case) -> None:
        _conforms(case)

    try:
        conforms()
    except Unsatisfiable:
        return "no case could be generated"
    except (Exception, FailureGroup) as failure:  # collected: one report of every operation that fails
        return str(failure)[:2000]
    return None


def _run(schema: Any, seeded: dict[str, str] | None = None) -> dict[str, str]:
    """What is wrong, by "METHOD path"."""
    failures = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if (failure := _check(operation, seeded or {})) is not None:
            failures[operation.label] = failure
    return failures


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_operation_conforms_to_its_document(
    service: str, store: str, request: pytest.FixtureRequest, tmp_path: Path, kafka_bootstrap: str
) -> None:
    namespace = asyncio.run(fresh_namespace(kafka_bootstrap))
    url = (f"sqlite+aiosqlite:///{tmp_path / service}.db" if store == "sqlite"
           else request.getfixturevalue("make_database")(service))
    settings_ = SERVICES[service].settings_with(
        database_url=url, kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=namespace)
    seeded = asyncio.run(_referred_provider(settings_)) if service == "referral" else {}
    app = SERVICES[service].build(settings_)
    started, cpu = time.monotonic(), time.process_time()
    found = _run(_schema(app, seeded.get("provider_id", "prv_schemathesis")), seeded)
    open_findings = {case for (name, case) in OPEN_FINDINGS if name == service}
    print(f"\n{service}: {time.monotonic() - started:.1f}s ({time.process_time() - cpu:.1f}s CPU in process) at "
          f"{EXAMPLES} examples; still open: {sorted(open_findings & set(found))}")
    new = [f"{case}: {failure}" for case, failure in found.items() if case not in open_findings]
    assert not new, "\n\n".join(new)
    assert open_findings <= set(found), f"fixed: take them off OPEN_FINDINGS: {sorted(open_findings - set(found))}"


def test_the_harness_reports_a_server_error() -> None:
    app = FastAPI()

    @app.get("/children/{number}")
    async def child(number: int) -> JSONResponse:
        # A 500 on half of the schema-valid requests, as a service's error handler answers an unexpected error.
        return JSONResponse({"number": number}, status_code=500 if number % 2 else 200)

    found = _run(_schema(app))
    assert "Server error" in found["GET /children/{number}"]
