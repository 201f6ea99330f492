"""The FHIR façade on the real broker and PostgreSQL: the CapabilityStatement, Task, ServiceRequest and searchset
Bundle validate with fhir.resources (R4B); a provider's Task status update moves the referral (an issued referral
accepted through FHIR is acknowledged first) and its events reach `referral.referral.v1`; an illegal update
(requested -> completed) is refused 422 with an OperationOutcome and changes nothing, on the referral or the topic;
another provider's Task is a 404 OperationOutcome, a client token without the `fhir` scope a 403; the
moves are made with a client-credentials token from POST /oauth/token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import httpx
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from referral.adapters.fhir_mapping import fhir_id
from simpul_platform.auth import Role
from tests.support.referral_directory import GateState, provider_in_state
from tests.support.referral_referrals import (
    OFFICER,
    Referral,
    referral_events,
    referral_service,
    referred,
)
from tests.support.stack import eventually, token

NOW = dt.datetime.now(dt.UTC)
FHIR_JSON, PATCH_JSON = "application/fhir+json", "application/json-patch+json"


async def _client_token(service: Referral, provider_id: str, scopes: list[str]) -> dict[str, str]:
    """A bearer header with an access token of a new API client of the provider (client credentials grant)."""
    answer = await service.client.post(f"/providers/{provider_id}/clients", headers=OFFICER,
                                       json={"name": "SIMRS", "scopes": scopes})
    assert answer.status_code == 201, answer.text
    client = answer.json()
    granted = await service.client.post("/oauth/token", data={"grant_type": "client_credentials"},
                                        auth=(client["client_id"], client["client_secret"]))
    assert granted.status_code == 200, granted.text
    return {"Authorization": f"Bearer {granted.json()['access_token']}"}


async def _types_of(bootstrap: str, namespace: str, referral_id: str) -> list[str]:
    return [kind for kind, body in await referral_events(bootstrap, namespace) if body["referral_id"] == referral_id]


def _outcome(answer: httpx.Response, status: int) -> OperationOutcome:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == FHIR_JSON
    return OperationOutcome.model_validate(answer.json())


async def test_a_task_status_update_moves_the_referral_and_an_illegal_one_changes_nothing(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    async with referral_service(make_database("referral"), kafka_bootstrap, namespace) as service:
        provider_id = await provider_in_state(service.units(), GateState.ELIGIBLE, on=NOW.date())
        other_id = await provider_in_state(service.units(), GateState.ELIGIBLE, on=NOW.date())
        referral_id = await referred(service, kafka_bootstrap, namespace, "chd_fhir", provider_id)
        mine, theirs = await _client_token(service, provider_id, ["fhir"]), token(Role.PROVIDER, other_id)
        reader = await _client_token(service, provider_id, ["referrals:read"])
        http, task_url = service.client, f"/fhir/Task/{fhir_id(referral_id)}"

        statement = CapabilityStatement.model_validate((await http.get("/fhir/metadata")).json())
        assert statement.fhirVersion == "4.3.0"
        read = await http.get(task_url, headers=mine)
        assert (read.status_code, read.headers["content-type"], read.headers["ETag"]) == (200, FHIR_JSON, 'W/"1"')
        task = Task.model_validate(read.json())
        assert (task.status, task.owner.reference) == ("requested", f"Organization/{fhir_id(provider_id)}")
        request = ServiceRequest.model_validate(
            (await http.get(f"/fhir/ServiceRequest/{fhir_id(referral_id)}", headers=mine)).json())
        assert (request.subject.identifier.value, request.code.coding[0].code) == ("per_chd_fhir",
                                                                                    "child.school_re_entry")
        assert _outcome(await http.get(task_url, headers=theirs), 404).issue[0].code == "not-found"
        assert _outcome(await http.get(task_url, headers=reader), 403).issue[0].code == "forbidden"

        patch = {"Content-Type": PATCH_JSON, "If-Match": 'W/"1"'}
        illegal = await http.patch(task_url, headers=mine | patch,
                                   json=[{"op": "replace", "path": "/status", "value": "completed"}])
        issue = _outcome(illegal, 422).issue[0]
        assert (issue.code, issue.expression) == ("business-rule", ["Task.status"])
        unchanged = (await http.get(f"/referrals/{referral_id}", headers=OFFICER)).json()
        assert (unchanged["status"], unchanged["version"]) == ("issued", 1)

        accepted = await http.patch(task_url, headers=mine | patch,
                                    json=[{"op": "replace", "path": "/status", "value": "accepted"}])
        assert accepted.status_code == 200, accepted.text
        assert (Task.model_validate(accepted.json()).status, accepted.headers["ETag"]) == ("accepted", 'W/"3"')
        moved = (await http.get(f"/referrals/{referral_id}", headers=OFFICER)).json()
        [issued, acknowledged, accepted_step] = moved["history"]
        assert (issued["by"], acknowledged["status"], accepted_step["status"]) == ("officer-jember", "acknowledged",
                                                                                  "accepted")
        assert acknowledged["by"] == accepted_step["by"] != "officer-jember"  # the provider's API client

        put = Task.model_validate(accepted.json()).model_dump(mode="json") | {"status": "in-progress"}
        started = await http.put(task_url, headers=mine | {"Content-Type": FHIR_JSON, "If-Match": 'W/"3"'}, json=put)
        assert started.status_code == 200, started.text
        stale = await http.put(task_url, headers=mine | {"Content-Type": FHIR_JSON, "If-Match": 'W/"3"'}, json=put)
        assert _outcome(stale, 412).issue[0].code == "conflict"

        expected = ["simpul.referral.referral-issued.v1", "simpul.referral.referral-acknowledged.v1",
                    "simpul.referral.referral-accepted.v1", "simpul.referral.referral-service-started.v1"]

        async def all_four() -> list[str] | None:
            types = await _types_of(kafka_bootstrap, namespace, referral_id)
            return types if len(types) >= len(expected) else None
        assert await eventually(all_four) == expected  # nothing from the illegal update, nothing twice

        async def searched() -> Bundle | None:
            answer = await http.get("/fhir/Task", headers=mine, params={
                "owner": f"Organization/{fhir_id(provider_id)}", "status": "in-progress",
                "_lastUpdated": f"gt{(NOW - dt.timedelta(hours=1)).isoformat()}"})
            assert answer.status_code == 200, answer.text
            bundle = Bundle.model_validate(answer.json())
            return bundle if bundle.total else None  # the sync serves a change once no older transaction is open
        bundle = await eventually(searched)
        assert (bundle.type, bundle.total, [e.resource.id for e in bundle.entry]) == (
            "searchset", 1, [fhir_id(referral_id)])
        nothing = await http.get("/fhir/Task", headers=theirs, params={"status": "in-progress"})
        assert Bundle.model_validate(nothing.json()).total == 0
