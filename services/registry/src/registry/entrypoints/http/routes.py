"""Registry HTTP routes: child records (register, read, update, search). Every read is audited."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from registry.domain.case_lifecycle import CaseStatus
from registry.domain.commands import Classify, ReadChild, RegisterChild, SearchChildren, UpdateChild
from registry.domain.record import ChildSearch
from registry.entrypoints.http import edge
from registry.entrypoints.http.edge import CHILD_ID_PATTERN, AccessReason, ChildId, FieldStaff, IdempotencyKey, IfMatch
from registry.entrypoints.http.schemas import NO_NUL, ChildCreate, ChildFields, ChildPage, ChildRead, ChildReplace
from registry.service_layer.handlers import children
from simpul_platform.idempotency import Answer

router = APIRouter(prefix="/children", tags=["children"])


@router.post("", status_code=201, response_model=ChildRead, summary="Register a child")
async def register_child(body: ChildCreate, principal: FieldStaff, request: Request, *,
                         idempotency_key: IdempotencyKey = None, reason: AccessReason = None) -> Response:
    """Register a child in a village within the caller's scope; a retry with the same key and body gets the first
    answer again (the child as registered), the same key with another body is a 422."""
    classify = body.classification
    command = RegisterChild(principal, edge.details(body), body.source_record_id,
                            Classify(classify.classification, classify.reason, classify.at) if classify else None,
                            reason)
    key = edge.idempotency(principal, idempotency_key, "/children", body)

    async def reread(answer: Answer) -> object:  # a replay is a read of the child: in scope, audited
        child_id = json.loads(answer.body)["child_id"]
        return await edge.run(request, children.read_child, ReadChild(principal, child_id, "register", reason))

    # Answered from the creating transaction: the relay may publish (or the process stop) right after commit.
    outcome = await edge.create_once(request, children.register_child, command, key, edge.child_view,
                                     on_replay=reread)
    return edge.respond(outcome, ETag=edge.etag(json.loads(outcome.answer.body)["version"]))


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
        after=cursor, limit=limit)
    page = await edge.run(request, children.search_children, SearchChildren(principal, search, reason))
    return ChildPage(items=[edge.child_view(view) for view in page.items], next_cursor=page.next_cursor)


@router.get("/{child_id}", response_model=ChildRead, summary="Read a child record (audited)")
async def read_child(child_id: ChildId, principal: FieldStaff, request: Request, response: Response, *,
                     reason: AccessReason = None) -> ChildRead:
    """One child, with its ETag; outside the caller's scope it does not exist (404, not 403)."""
    return await _respond(request, ReadChild(principal, child_id, "read", reason), response)


@router.patch("/{child_id}", response_model=ChildRead, summary="Change some of a child's details (If-Match)",
            openapi_extra=edge.IF_MATCH_REQUIRED)
async def patch_child(child_id: ChildId, body: ChildFields, principal: FieldStaff, request: Request,
                      response: Response, *, if_match: IfMatch = None, reason: AccessReason = None) -> ChildRead:
    """Change the fields sent; 428 without If-Match, 412 when the record changed since it was read."""
    version = edge.read_version(if_match)
    changes = edge.changes(body, frozenset(body.model_fields_set))
    return await _update(request, UpdateChild(principal, child_id, version, changes), reason, response)


@router.put("/{child_id}", response_model=ChildRead, summary="Replace a child's details (If-Match)",
            openapi_extra=edge.IF_MATCH_REQUIRED)
async def put_child(child_id: ChildId, body: ChildReplace, principal: FieldStaff, request: Request,
                    response: Response, *, if_match: IfMatch = None, reason: AccessReason = None) -> ChildRead:
    """Replace every detail; omitted optional fields are cleared."""
    version = edge.read_version(if_match)
    return await _update(request, UpdateChild(principal, child_id, version, edge.details(body)), reason, response)


async def _update(request: Request, command: UpdateChild, reason: str | None, response: Response) -> ChildRead:
    await edge.run(request, children.update_child, command)
    return await _respond(request, ReadChild(command.by, command.child_id, "update", reason), response)


async def _respond(request: Request, command: ReadChild, response: Response) -> ChildRead:
    view = await edge.run(request, children.read_child, command)
    response.headers["ETag"] = edge.etag(view.record.version)
    return edge.child_view(view)


def _years_before(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


