"""Registry HTTP routes: child records (register, read, update, search). Every read is audited."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from registry.adapters.children_repository import ChildrenRepository, ChildSearch
from registry.domain.case_lifecycle import CaseStatus
from registry.domain.errors import RegistryError
from registry.entrypoints.http import edge
from registry.entrypoints.http.edge import CHILD_ID_PATTERN, AccessReason, ChildId, FieldStaff, IdempotencyKey, IfMatch
from registry.entrypoints.http.schemas import NO_NUL, ChildCreate, ChildFields, ChildPage, ChildRead, ChildReplace
from registry.service_layer import children, handlers
from simpul_platform.auth import Principal

router = APIRouter(prefix="/children", tags=["children"])


@router.post("", status_code=201, response_model=ChildRead, summary="Register a child")
async def register_child(body: ChildCreate, principal: FieldStaff, request: Request, response: Response, *,
                         idempotency_key: IdempotencyKey = None, reason: AccessReason = None) -> ChildRead:
    """Register a child in a village within the caller's scope; a retry with the same key returns the same child."""
    runtime, registry = edge.runtime_of(request), edge.registry_of(request)
    classify = body.classification
    command = children.Classify(classify.classification, classify.reason, classify.at) if classify else None
    details = body.model_dump(exclude={"source_record_id", "classification"}, exclude_unset=True)
    details |= {"full_name": body.full_name, "sex": body.sex, "village_code": body.village_code}

    created: list[ChildRead] = []

    async def create(session: Any) -> str:
        record = await children.register_child(session, registry, principal, details,
                                               source_record_id=body.source_record_id, classify=command)
        child_id = record.child.child_id
        await handlers.record_access(session, principal, "register", child_id, reason)
        case = await ChildrenRepository(session, registry.closure_rule).case_of(child_id)
        created.append(edge.child_view(record, case))
        return child_id

    digest = handlers.fingerprint("POST /children", body.model_dump(mode="json"))
    child_id = await edge.create_once(runtime, principal, idempotency_key, digest, create)
    if not created or created[-1].child_id != child_id:  # a retry: the child as it stands now
        return await _respond(request, principal, child_id, "register", reason=reason, response=response)
    # Answered from the creating transaction: the relay may publish (or the process stop) right after commit.
    response.headers["ETag"] = edge.etag(created[-1].version)
    return created[-1]


@router.get("", response_model=ChildPage, summary="Search children in your scope (audited)")
async def search_children(
    principal: FieldStaff, request: Request, *, reason: AccessReason = None,
    name: Annotated[str | None, Query(min_length=1, max_length=200, pattern=NO_NUL)] = None,
    village_code: Annotated[str | None, Query(pattern=r"^\d{2}\.\d{2}\.\d{2}\.[12]\d{3}$")] = None,
    status: CaseStatus | None = None,
    age_min: Annotated[int | None, Query(ge=0, le=18)] = None,
    age_max: Annotated[int | None, Query(ge=0, le=18)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=40, pattern=CHILD_ID_PATTERN)] = None,
) -> ChildPage:
    """Children matching every given filter, ordered by id; children without a birth date miss age filters."""
    today = dt.datetime.now(dt.UTC).date()
    search = ChildSearch(
        scope=principal.scope, name=name, village_code=village_code, status=status,
        born_after=_years_before(today, age_max + 1) if age_max is not None else None,
        born_on_or_before=_years_before(today, age_min) if age_min is not None else None,
        after=cursor, limit=limit + 1)
    runtime, registry = edge.runtime_of(request), edge.registry_of(request)
    async with runtime.transaction() as session:
        records = await children.search_children(session, registry, search)
        repository = ChildrenRepository(session, registry.closure_rule)
        items = []
        for record in records[:limit]:
            await handlers.record_access(session, principal, "search", record.child.child_id, reason)
            items.append(edge.child_view(record, await repository.case_of(record.child.child_id)))
    more = len(records) > limit
    return ChildPage(items=items, next_cursor=items[-1].child_id if more else None)


@router.get("/{child_id}", response_model=ChildRead, summary="Read a child record (audited)")
async def read_child(child_id: ChildId, principal: FieldStaff, request: Request, response: Response, *,
                     reason: AccessReason = None) -> ChildRead:
    """One child, with its ETag; outside the caller's scope it does not exist (404, not 403)."""
    return await _respond(request, principal, child_id, "read", reason=reason, response=response)


@router.patch("/{child_id}", response_model=ChildRead, summary="Change some of a child's details (If-Match)")
async def patch_child(child_id: ChildId, body: ChildFields, principal: FieldStaff, request: Request,
                      response: Response, *, if_match: IfMatch = None, reason: AccessReason = None) -> ChildRead:
    """Change the fields sent; 428 without If-Match, 412 when the record changed since it was read."""
    return await _update(request, principal, child_id, if_match, _lists_cleared(body.model_dump(exclude_unset=True)),
                         reason=reason, response=response)


@router.put("/{child_id}", response_model=ChildRead, summary="Replace a child's details (If-Match)")
async def put_child(child_id: ChildId, body: ChildReplace, principal: FieldStaff, request: Request,
                    response: Response, *, if_match: IfMatch = None, reason: AccessReason = None) -> ChildRead:
    """Replace every detail; omitted optional fields are cleared."""
    return await _update(request, principal, child_id, if_match, _lists_cleared(body.model_dump()), reason=reason,
                         response=response)


def _lists_cleared(changes: dict[str, Any]) -> dict[str, Any]:
    """Null for the aliases or the guardians clears them: the record keeps an empty list, never null."""
    return changes | {name: [] for name in ("aliases", "guardians") if name in changes and changes[name] is None}


async def _update(request: Request, principal: Principal, child_id: str, if_match: str | None,
                  changes: dict[str, Any], *, reason: str | None, response: Response) -> ChildRead:
    version = edge.read_version(if_match)
    runtime, registry = edge.runtime_of(request), edge.registry_of(request)
    try:
        async with runtime.transaction() as session:
            await children.update_child(session, registry, principal, child_id, read_version=version,
                                        changes=changes)
    except RegistryError as error:
        raise edge.problem(error) from None
    return await _respond(request, principal, child_id, "update", reason=reason, response=response)


async def _respond(request: Request, principal: Principal, child_id: str, action: str, *, reason: str | None,
                   response: Response) -> ChildRead:
    runtime, registry = edge.runtime_of(request), edge.registry_of(request)
    async with runtime.transaction() as session:
        repository = ChildrenRepository(session, registry.closure_rule)
        try:
            record = await children.child_in_scope(repository, principal, child_id)
        except RegistryError as error:
            raise edge.problem(error) from None
        await handlers.record_access(session, principal, action, child_id, reason)
        view = edge.child_view(record, await repository.case_of(child_id))
    response.headers["ETag"] = edge.etag(view.version)
    return view


def _years_before(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


