"""Registry HTTP routes: children."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from registry.config import RegistrySettings
from registry.domain.errors import RegistryError
from registry.entrypoints.http.schemas import ChildCreate, ChildRead
from registry.service_layer import handlers
from simpul_platform.auth import Principal, Role, require
from simpul_platform.problems import Problem
from simpul_platform.runtime import ServiceRuntime

router = APIRouter(prefix="/children", tags=["children"])
FieldStaff = Annotated[Principal, Depends(require(Role.CADRE, Role.DISTRICT_OFFICER, Role.SERVICE))]
NOT_FOUND = Problem(404, "Child not found", "No child with this id in your scope.")


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


@router.post("", status_code=201, response_model=ChildRead, summary="Register a child")
async def register_child(body: ChildCreate, principal: FieldStaff, request: Request) -> ChildRead:
    """Register a child in a village within the caller's scope."""
    if not principal.covers_region(body.village_code):
        raise Problem(403, "Outside your scope", "village_code: not in your villages or districts")
    runtime = _runtime(request)
    settings = runtime.settings
    assert isinstance(settings, RegistrySettings)
    command = handlers.RegisterChild(source_system=settings.source_system, **body.model_dump())
    try:
        async with runtime.transaction() as session:
            child = await handlers.register_child(session, runtime.outbox, command)
    except RegistryError as error:
        raise Problem(422, "Invalid request", str(error), [{"field": error.field, "reason": error.reason}]) from None
    return ChildRead(**asdict(child))


@router.get("/{child_id}", response_model=ChildRead, summary="Read a child record (audited)")
async def read_child(
    child_id: str,
    principal: FieldStaff,
    request: Request,
    reason: Annotated[str | None, Header(alias="X-Access-Reason", max_length=500)] = None,
) -> ChildRead:
    """One child; outside the caller's scope it does not exist (404, not 403)."""
    runtime = _runtime(request)
    async with runtime.transaction() as session:
        child = await handlers.get_child(session, child_id)
        if child is None or not principal.covers_region(child.village_code):
            raise NOT_FOUND
        await handlers.record_read(session, principal, child_id, reason)
        return ChildRead(**asdict(child))
