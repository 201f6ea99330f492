"""A registry refusal leaves any route as problem+json with the status of its kind, through the platform handler."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from registry.domain import errors
from registry.domain.details import School
from registry.domain.visits import SchoolStatus
from registry.entrypoints.http.edge import RegistryRoute
from simpul_platform.errors import ErrorKind as PlatformErrorKind
from simpul_platform.problems import install_problem_handlers

REFUSALS = {
    "/gone": (errors.ChildNotFound(), 404), "/outside": (errors.OutsideScope(), 403),
    "/stale": (errors.StaleVersion(), 412), "/conflict": (errors.CaseRequired(), 409),
    "/invalid": (errors.UnknownVillage(), 422),
}


def test_the_registrys_error_kinds_are_the_platforms() -> None:
    assert {k.value for k in errors.ErrorKind} == {k.value for k in PlatformErrorKind}


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    router = APIRouter(route_class=RegistryRoute)
    for path, (error, _status) in REFUSALS.items():
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
    error, status = REFUSALS.get(path, (None, 422))
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    expected = error or errors.RegistryError("school.grade", "must be from 1 to 12")
    assert response.json()["errors"] == [{"field": expected.field, "reason": expected.reason}]  # type: ignore[attr-defined]
