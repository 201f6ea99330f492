"""A registry refusal leaves any route as problem+json with the status and title of its kind, through the platform
handler."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from registry.domain import errors
from registry.domain.details import School
from registry.domain.visits import SchoolStatus
from simpul_platform.problems import install_problem_handlers

REFUSALS = {
    "/gone": (errors.ChildNotFound(), 404, "Child not found"),
    "/outside": (errors.OutsideScope(), 403, "Outside your scope"),
    "/stale": (errors.StaleVersion(), 412, "Precondition failed"),
    "/conflict": (errors.CaseRequired(), 409, "Conflict"),
    "/invalid": (errors.UnknownVillage(), 422, "Invalid request"),
    "/no-case": (errors.NoCase(), 404, "No case"),
    "/no-import": (errors.ImportNotFound(), 404, "Import not found"),
}


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    router = APIRouter()
    for path, (error, _status, _title) in REFUSALS.items():
        router.add_api_route(path, _raising(error))
    router.add_api_route("/body", lambda: School(SchoolStatus.ENROLLED, 13))  # a value object built at the edge
    app.include_router(router)
    return app


def _raising(error: Exception):  # type: ignore[no-untyped-def]
    async def endpoint() -> None:
        raise error

    return endpoint


@pytest.mark.parametrize("path", [*REFUSALS, "/body"])
async def test_a_refusal_is_a_problem_naming_the_field(app: FastAPI, path: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(path)
    body_error = errors.RegistryError("school.grade", "must be from 1 to 12")
    error, status, title = REFUSALS.get(path, (body_error, 422, "Invalid request"))
    assert (response.status_code, response.json()["title"]) == (status, title)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [{"field": error.field, "reason": error.reason}]
