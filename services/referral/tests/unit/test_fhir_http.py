"""The FHIR routes on the fake: fhir+json answers that fhir.resources accepts, OperationOutcome for every refusal
(401, 403, 404 for another provider's referral, 400 naming the element, 412, 415, 422 for a move the state machine
refuses, which changes nothing), PATCH and PUT moving the referral through the referrals area's handlers (an accept
of an issued referral acknowledges it first), and the Task search by owner, status and _lastUpdated with pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from referral.adapters import fhir_mapping as fm
from referral.config import ReferralSettings
from referral.domain.commands.fhir import SearchProviderReferrals
from referral.domain.consent import RecordedConsent
from referral.domain.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from referral.domain.lifecycle import ReferralRequest, ReferralStatus, Step
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral
from referral.entrypoints.http import fhir
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers.fhir import search_provider_referrals
from simpul_contracts.events.referral import referrals as wire
from simpul_platform.auth import Principal, Role, TokenKeys, mint_token
from simpul_platform.errors import Stale
from simpul_platform.problems import install_problem_handlers
from simpul_platform.unit_of_work import execute

SECRET = "test-secret-of-at-least-32-bytes-long"
AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
NOW = AT + dt.timedelta(hours=5)
LPA, OTHER = "prv_" + "a" * 32, "prv_" + "b" * 32
FHIR_JSON, PATCH_JSON = "application/fhir+json", "application/json-patch+json"


def rid(n: int) -> str:
    return f"ref_{n:032x}"


def tid(n: int) -> str:
    return fm.fhir_id(rid(n))


def bearer(role: Role, scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, 'staff', role, [scope])}"}


ME, THEM = bearer(Role.PROVIDER, LPA), bearer(Role.PROVIDER, OTHER)


def referral(n: int, provider_id: str = LPA) -> Referral:
    request = ReferralRequest(rid(n), f"chd_{n}", f"per_{n}", "35.09", ("child.school_re_entry",),
                              RecordedConsent(AT))
    return Referral(request, provider_id, [Step(ReferralStatus.ISSUED, "officer", AT)], PersonLink(f"per_{n}"))


@pytest.fixture
async def uow() -> FakeReferralUnitOfWork:
    fake = FakeReferralUnitOfWork()
    async with fake:
        for n, provider_id in ((1, LPA), (2, LPA), (3, OTHER), (4, LPA)):
            await fake.referrals.save(referral(n, provider_id))
        await fake.commit()
    fake.published.clear()
    return fake


@pytest.fixture
async def client(uow: FakeReferralUnitOfWork) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(fhir.router)
    app.state.token_keys = TokenKeys(secret=SECRET)
    app.state.wiring = SimpleNamespace(unit_of_work=lambda: uow, clock=lambda: NOW, settings=ReferralSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


def refusal(answer: httpx.Response, status: int) -> OperationOutcome:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == FHIR_JSON
    return OperationOutcome.model_validate(answer.json())


async def patch(client: httpx.AsyncClient, n: int, operations: Any, **headers: str) -> httpx.Response:
    return await client.patch(f"/fhir/Task/{tid(n)}", json=operations,
                              headers=ME | {"Content-Type": PATCH_JSON} | headers)


def to(status: str) -> list[dict[str, Any]]:
    return [{"op": "replace", "path": "/status", "value": status}]


async def test_the_capability_statement_is_r4b_and_public(client: httpx.AsyncClient) -> None:
    answer = await client.get("/fhir/metadata")
    assert answer.headers["content-type"] == FHIR_JSON
    statement = CapabilityStatement.model_validate(answer.json())
    assert (statement.fhirVersion, statement.format) == ("4.3.0", [FHIR_JSON])
    [task, request] = statement.rest[0].resource
    assert {i.code for i in task.interaction} == {"read", "search-type", "patch", "update"}
    assert {p.name for p in task.searchParam} == {"owner", "status", "_lastUpdated", "_count"}
    assert request.type == "ServiceRequest"


async def test_a_provider_reads_its_task_and_service_request(client: httpx.AsyncClient,
                                                             uow: FakeReferralUnitOfWork) -> None:
    answer = await client.get(f"/fhir/Task/{tid(1)}", headers=ME)
    assert (answer.status_code, answer.headers["content-type"], answer.headers["ETag"]) == (200, FHIR_JSON, 'W/"1"')
    task = Task.model_validate(answer.json())
    assert (task.status, task.meta.versionId) == ("requested", "1")
    assert task.restriction.period.end == AT + dt.timedelta(days=3)  # the acknowledgement is due first
    request = ServiceRequest.model_validate((await client.get(f"/fhir/ServiceRequest/{tid(1)}", headers=ME)).json())
    assert request.subject.identifier.value == "per_1"
    assert [a.action for a in uow.audited] == ["read", "read"]


async def test_refusals_are_operation_outcomes(client: httpx.AsyncClient) -> None:
    assert refusal(await client.get(f"/fhir/Task/{tid(3)}", headers=ME), 404).issue[0].code == "not-found"
    assert refusal(await client.get(f"/fhir/Task/{tid(9)}", headers=ME), 404).issue[0].code == "not-found"
    assert refusal(await client.get(f"/fhir/Task/{tid(1)}"), 401).issue[0].code == "login"
    officer = bearer(Role.DISTRICT_OFFICER, "35.09")
    assert refusal(await client.get(f"/fhir/Task/{tid(1)}", headers=officer), 403).issue[0].code == "forbidden"
    assert refusal(await client.get("/fhir/Patient/1", headers=ME), 404).issue[0].code == "not-supported"
    without_fhir = {"Authorization": "Bearer " + mint_token(SECRET, "client", Role.PROVIDER, [LPA],
                                                            permissions=["referrals:read"])}
    assert refusal(await client.get(f"/fhir/Task/{tid(1)}", headers=without_fhir), 403).issue[0].code == "forbidden"
    with_fhir = {"Authorization": "Bearer " + mint_token(SECRET, "client", Role.PROVIDER, [LPA], permissions=["fhir"])}
    assert (await client.get(f"/fhir/Task/{tid(1)}", headers=with_fhir)).status_code == 200
    assert refusal(await client.get("/fhir/Task", params={"_count": 0}, headers=ME), 400).issue[0].code == "invalid"
    bad_cursor = refusal(await client.get("/fhir/Task", params={"_cursor": "nope"}, headers=ME), 400)
    assert bad_cursor.issue[0].expression == ["_cursor"]


@pytest.mark.parametrize(("error", "status", "code"), [
    (InvalidTransition("status", "issued", "accept"), 422, "business-rule"),
    (Conflict("service_records", "completion needs at least one service record"), 422, "business-rule"),
    (Conflict("version", "the referral changed concurrently: read it again"), 409, "conflict"),
    (Stale("If-Match", "the referral changed since you read it"), 412, "conflict"),
    (NotFound("referral_id", "no such referral in your scope"), 404, "not-found"),
    (Forbidden("role", "only a provider's token"), 403, "forbidden"),
    (Invalid("Task.statusReason", "a rejection needs one"), 422, "invalid"),
])
def test_each_domain_refusal_has_its_fhir_status(error: Exception, status: int, code: str) -> None:
    refusal = fhir.fhir_error(error)
    assert (refusal.status, refusal.code) == (status, code)
    assert refusal.diagnostics == str(error)


async def test_an_unexpected_failure_is_a_bare_500_outcome(client: httpx.AsyncClient,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(command: object, uow: object) -> None:
        raise RuntimeError("per_1 Siti Aminah")  # a message that must not leave the service

    monkeypatch.setattr(fhir.handlers, "read_referral", broken)
    answer = await client.get(f"/fhir/Task/{tid(1)}", headers=ME)
    assert refusal(answer, 500).issue[0].code == "exception"
    assert "Siti" not in answer.text


async def test_an_accept_of_an_issued_referral_acknowledges_it_first(client: httpx.AsyncClient,
                                                                      uow: FakeReferralUnitOfWork) -> None:
    answer = await patch(client, 1, to("accepted"), **{"If-Match": 'W/"1"'})
    assert answer.status_code == 200, answer.text
    task = Task.model_validate(answer.json())
    assert (task.status, task.businessStatus.coding[0].code, answer.headers["ETag"]) == ("accepted", "accepted",
                                                                                         'W/"3"')
    assert [type(e) for e in uow.published] == [wire.ReferralAcknowledgedV1, wire.ReferralAcceptedV1]
    stored = uow.referrals.referrals[rid(1)]
    assert [(s.status, s.by, s.at) for s in stored.history[1:]] == [
        (ReferralStatus.ACKNOWLEDGED, "staff", NOW), (ReferralStatus.ACCEPTED, "staff", NOW)]
    assert task.restriction is None


async def test_an_illegal_move_is_refused_as_a_business_rule_and_changes_nothing(
        client: httpx.AsyncClient, uow: FakeReferralUnitOfWork) -> None:
    outcome = refusal(await patch(client, 1, to("completed")), 422)
    assert (outcome.issue[0].code, outcome.issue[0].expression) == ("business-rule", ["Task.status"])
    assert "cannot move to completed (completed): the Task.status is requested (issued)" in outcome.issue[0].diagnostics
    assert (uow.referrals.referrals[rid(1)].version, uow.published) == (1, [])


async def test_a_rejection_needs_a_decline_reason_from_the_code_list(client: httpx.AsyncClient,
                                                                     uow: FakeReferralUnitOfWork) -> None:
    outcome = refusal(await patch(client, 2, to("rejected")), 422)
    assert outcome.issue[0].expression == ["Task.statusReason"]
    reason = {"op": "add", "path": "/statusReason",
              "value": {"coding": [{"system": fm.DECLINE_REASON, "code": "no_capacity"}]}}
    answer = await patch(client, 2, [*to("rejected"), reason])
    assert answer.status_code == 200, answer.text
    assert Task.model_validate(answer.json()).statusReason.coding[0].code == "no_capacity"
    assert uow.referrals.referrals[rid(2)].history[-1].reason == "no_capacity"
    assert [type(e) for e in uow.published] == [wire.ReferralAcknowledgedV1, wire.ReferralDeclinedV1]


async def test_a_gravity_client_acknowledges_through_business_status(client: httpx.AsyncClient) -> None:
    acknowledged = {"op": "replace", "path": "/businessStatus/coding/0/code", "value": "acknowledged"}
    answer = await patch(client, 1, [acknowledged])
    assert answer.status_code == 200, answer.text
    assert Task.model_validate(answer.json()).status == "requested"
    assert (await client.get(f"/fhir/Task/{tid(1)}", headers=ME)).json()["businessStatus"]["coding"][0]["code"] \
        == "acknowledged"


@pytest.mark.parametrize(("operations", "headers", "status", "code"), [
    ([{"op": "replace", "path": "/owner", "value": {"reference": "Organization/x"}}], {}, 422, "business-rule"),
    ([{"op": "move", "from": "/status", "path": "/status"}], {}, 400, "not-supported"),
    ([{"op": "replace", "path": "/status", "value": 5}], {}, 400, "structure"),
    ([{"op": "test", "path": "/status", "value": "accepted"}, *to("accepted")], {}, 409, "conflict"),
    (to("accepted"), {"If-Match": 'W/"7"'}, 412, "conflict"),
    (to("accepted"), {"If-Match": "whatever"}, 412, "conflict"),
    (to("accepted"), {"Content-Type": "application/json"}, 415, "not-supported"),
])
async def test_a_bad_patch_is_refused_and_changes_nothing(client: httpx.AsyncClient, uow: FakeReferralUnitOfWork,
                                                          operations: Any, headers: dict[str, str], status: int,
                                                          code: str) -> None:
    assert refusal(await patch(client, 1, operations, **headers), status).issue[0].code == code
    assert (uow.referrals.referrals[rid(1)].version, uow.published) == (1, [])


async def test_an_invalid_element_is_named_by_its_path(client: httpx.AsyncClient) -> None:
    outcome = refusal(await patch(client, 1, [{"op": "add", "path": "/statusReason",
                                               "value": {"coding": [{"code": 5}]}}]), 400)
    assert outcome.issue[0].expression == ["Task.statusReason.coding[0].code"]


async def current(client: httpx.AsyncClient, n: int) -> dict[str, Any]:
    document: dict[str, Any] = (await client.get(f"/fhir/Task/{tid(n)}", headers=ME)).json()
    return document


async def put(client: httpx.AsyncClient, n: int, body: Any, **headers: str) -> httpx.Response:
    return await client.put(f"/fhir/Task/{tid(n)}", json=body, headers=ME | {"Content-Type": FHIR_JSON} | headers)


async def test_a_put_moves_the_referral_and_may_change_only_the_status(client: httpx.AsyncClient,
                                                                      uow: FakeReferralUnitOfWork) -> None:
    task = await current(client, 4)
    moved = await put(client, 4, task | {"status": "received"}, **{"If-Match": 'W/"1"'})
    assert moved.status_code == 200, moved.text
    assert uow.referrals.referrals[rid(4)].status is ReferralStatus.ACKNOWLEDGED
    changed = refusal(await put(client, 4, task | {"status": "accepted", "priority": "urgent"}), 422)
    assert changed.issue[0].expression == ["Task.priority"]
    wrong_id = refusal(await put(client, 4, task | {"id": tid(1)}), 400)
    assert wrong_id.issue[0].expression == ["Task.id"]
    unknown = refusal(await put(client, 4, task | {"colour": "red"}), 400)
    assert unknown.issue[0].expression == ["Task.colour"]
    assert refusal(await put(client, 4, {"resourceType": "Patient"}), 400).issue[0].expression == ["Task.resourceType"]
    assert uow.referrals.referrals[rid(4)].status is ReferralStatus.ACKNOWLEDGED


async def search(client: httpx.AsyncClient, **params: Any) -> Bundle:
    answer = await client.get("/fhir/Task", params=params, headers=ME)
    assert (answer.status_code, answer.headers["content-type"]) == (200, FHIR_JSON), answer.text
    return Bundle.model_validate(answer.json())


async def test_the_search_finds_only_your_tasks_by_status_and_last_update(client: httpx.AsyncClient) -> None:
    await patch(client, 2, to("accepted"))
    every = await search(client, owner=f"Organization/{fm.fhir_id(LPA)}")
    assert (every.type, every.total) == ("searchset", 3)
    assert [e.resource.id for e in every.entry] == [tid(1), tid(4), tid(2)]  # in the order they last changed
    assert every.entry[0].fullUrl == f"http://test/fhir/Task/{tid(1)}"
    accepted = await search(client, status="accepted")
    assert [e.resource.id for e in accepted.entry] == [tid(2)]
    assert (await search(client, owner=f"Organization/{fm.fhir_id(OTHER)}")).total == 0


async def test_the_search_pages_by_next_links(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    bundle = await search(client, _count=1)
    while True:
        seen += [e.resource.id for e in bundle.entry]
        links = {link.relation: link.url for link in bundle.link}
        if "next" not in links:
            break
        assert bundle.total == 3  # every match, on every page
        answer = await client.get(links["next"], headers=ME)
        bundle = Bundle.model_validate(answer.json())
    assert seen == [tid(1), tid(2), tid(4)]


@pytest.mark.parametrize("count_up_to", [2, 1000])
async def test_the_search_handler_pages_through_every_match_past_its_count_limit(
        uow: FakeReferralUnitOfWork, count_up_to: int) -> None:
    by = Principal("staff", Role.PROVIDER, (LPA,))
    seen, after, totals = [], None, set()
    while True:
        command = SearchProviderReferrals(by, frozenset({ReferralStatus.ISSUED}), limit=1, after=after,
                                          count_up_to=count_up_to)
        page = await execute(uow, search_provider_referrals, command)
        seen += [r.referral_id for r in page.referrals]
        totals.add(page.total)
        if not page.more:
            break
        after = page.next
    assert seen == [rid(1), rid(2), rid(4)]
    assert totals == ({None} if count_up_to == 2 else {3})  # a stream longer than the limit has no total
    assert {a.action for a in uow.audited} == {"search"}


async def test_the_last_updated_filter_takes_gt_only(client: httpx.AsyncClient) -> None:
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert (await search(client, _lastUpdated=f"gt{later}")).total == 0
    assert (await search(client, _lastUpdated="gt2020-01-01")).total == 3
    answer = await client.get("/fhir/Task", params={"_lastUpdated": "lt2020-01-01"}, headers=ME)
    assert refusal(answer, 400).issue[0].expression == ["_lastUpdated"]
