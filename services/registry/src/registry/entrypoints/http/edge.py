"""What every child endpoint shares: the unit of work, ETags, bodies as domain values, views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Path, Request, Response
from pydantic import BaseModel

from registry.config import RegistrySettings
from registry.domain.case import Case
from registry.domain.consent import ConsentPurpose, GuardianConsent
from registry.domain.details import BirthPrecision, ChildChanges, ChildDetails, Guardian, School, Work
from registry.entrypoints.http import schemas
from registry.service_layer import idempotency as keys
from registry.service_layer.handlers.children import ChildView
from registry.service_layer.unit_of_work import RegistryUnitOfWork, UnitsOfWork
from simpul_platform.auth import Principal, Role, require
from simpul_platform.idempotency import REPLAY_HEADER, Answer, KeyHeader, Outcome, fingerprint
from simpul_platform.idempotency import IdempotencyKey as Key
from simpul_platform.problems import Problem
from simpul_platform.unit_of_work import execute
from simpul_platform.web import required_header

C = TypeVar("C")
R = TypeVar("R")
FieldStaff = Annotated[Principal, Depends(require(Role.CADRE, Role.DISTRICT_OFFICER, Role.SERVICE))]
AccessReason = Annotated[str | None, Header(alias="X-Access-Reason", max_length=500)]
IdempotencyKey = KeyHeader  # the form every service takes: a token or a quoted sf-string of 1-255 characters
# Documented as required (IF_MATCH_REQUIRED) but read here, so that a missing one is the 428 problem of RFC 6585.
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=100, include_in_schema=False)]
IF_MATCH_REQUIRED = required_header("If-Match", maxLength=100)
# Ids are opaque (`chd_` and hex): anything else cannot name a child, and a NUL would not even reach the database.
CHILD_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
ChildId = Annotated[str, Path(max_length=40, pattern=CHILD_ID_PATTERN, description="The child's id")]


def units_of_work(request: Request) -> UnitsOfWork:
    """The registry's unit of work factory, as the composition root built it."""
    factory: UnitsOfWork = request.app.state.unit_of_work
    return factory


async def run(request: Request, handler: Callable[[C, RegistryUnitOfWork], Awaitable[R]], command: C) -> R:
    """Run one handler in a fresh unit of work and commit."""
    return await execute(units_of_work(request)(), handler, command)


def idempotency(principal: Principal, key: str | None, target: str, body: BaseModel) -> Key | None:
    """The Idempotency-Key of a create (`POST target`) with the fingerprint of its request, when the client sent one."""
    if key is None:
        return None
    return Key(principal.subject, key.strip('"'), fingerprint("POST", target, body.model_dump(mode="json")))


async def create_once(request: Request, handler: Callable[[C, RegistryUnitOfWork], Awaitable[R]], command: C,
                      key: Key | None, answer: Callable[[R], BaseModel], *,
                      on_replay: Callable[[Answer], Awaitable[object]], status: int = 201) -> Outcome:
    """Run a create at most once per key (`service_layer.idempotency`), its answer `status` and the view `answer`
    makes of the handler's result, kept `idempotency_key_hours`."""
    settings: RegistrySettings = request.app.state.runtime.settings
    return await keys.create_once(
        units_of_work(request), handler, command, key=key,
        answer=lambda result: Answer(status, answer(result).model_dump_json().encode()), on_replay=on_replay,
        now=dt.datetime.now(dt.UTC), ttl=dt.timedelta(hours=settings.idempotency_key_hours))


def respond(outcome: Outcome, **headers: str) -> Response:
    """The answer of a create, first or replayed (then marked `Idempotent-Replayed: true`)."""
    replayed = {REPLAY_HEADER: "true"} if outcome.replayed else {}
    return Response(outcome.answer.body, outcome.answer.status, headers | replayed, media_type="application/json")


def etag(version: int) -> str:
    """The ETag of a record version."""
    return f'"{version}"'


def read_version(if_match: str | None) -> int:
    """The version an If-Match names: 428 without one, 412 when it cannot be a version of ours."""
    if if_match is None:
        raise Problem(428, "Precondition required", "If-Match: send the ETag of the record you read",
                      [{"field": "If-Match", "reason": "is required to change a child record"}])
    value = if_match.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()):  # str.isdigit() takes superscripts, which int() refuses
        raise Problem(412, "Precondition failed", "If-Match: not an ETag of this record",
                      [{"field": "If-Match", "reason": "does not match the record's ETag"}])
    return int(value)


def case_view(case: Case | None) -> schemas.CaseRead | None:
    """The case as the API shows it."""
    if case is None:
        return None
    assessment = case.withdrawal_assessment(dt.datetime.now(dt.UTC).date())
    return schemas.CaseRead(case_id=case.case_id, status=case.status, classification=case.classification,
                            closure_reason=case.closure_reason, withdrawal_rule=assessment.explanation)


def child_view(view: ChildView) -> schemas.ChildRead:
    """The record as the API shows it."""
    record, case = view.record, view.case
    child = record.child
    return schemas.ChildRead(
        child_id=child.child_id, version=record.version, full_name=child.full_name, aliases=record.aliases,
        sex=child.sex, village_code=child.village_code, birth_date=child.birth_date,
        birth_date_precision=record.precision,
        mother_name=child.mother_name, nik=record.nik, kk_number=record.kk_number,
        identity_warnings=[schemas.IdentityWarning(code=w.code.value, field=w.field, reason=w.reason)
                           for w in record.identity_warnings],
        guardians=[schemas.Guardian(name=g.name, relationship=g.relationship, phone=g.phone)
                   for g in record.guardians],
        school=schemas.School(status=record.school.status, grade=record.school.grade) if record.school else None,
        work=_work_view(record.work) if record.work else None, source_system=child.source_system,
        source_record_id=child.source_record_id, person_id=child.person_id, registered_at=child.registered_at,
        erased_at=record.erased_at,
        case=case_view(case))


def consent_view(consent: GuardianConsent) -> schemas.ConsentRead:
    """Consent as the API shows it."""
    purposes = {purpose: consent.decision(purpose) for purpose in ConsentPurpose}
    history = [schemas.ConsentEntry(purpose=r.purpose, decision=r.decision, decided_on=r.decided_on,
                                    recorded_by=r.recorded_by, recorded_at=r.recorded_at) for r in consent.records]
    return schemas.ConsentRead(in_force=purposes, history=history)


def _work_view(work: Work) -> schemas.Work:
    return schemas.Work(sectors=list(work.sectors), tasks=work.tasks, hours_per_week=work.hours_per_week,
                        hazards=list(work.hazards))


def changes(body: schemas.ChildFields, given: frozenset[str]) -> ChildChanges:
    """The details a body gives, as the domain's changes (a null list clears it)."""
    return ChildChanges(given, **_values(body))


def details(body: schemas.ChildFields) -> ChildDetails:
    """Every detail a body gives (a registration or a replacement)."""
    return ChildDetails(**_values(body))


def _values(body: schemas.ChildFields) -> dict[str, Any]:
    return {
        "full_name": body.full_name, "sex": body.sex, "village_code": body.village_code,
        "aliases": tuple(body.aliases or ()), "birth_date": body.birth_date,
        "birth_date_precision": BirthPrecision(body.birth_date_precision) if body.birth_date_precision else None,
        "mother_name": body.mother_name, "nik": body.nik, "kk_number": body.kk_number,
        "guardians": tuple(Guardian(g.name, g.relationship, g.phone) for g in body.guardians or ()),
        "school": School(body.school.status, body.school.grade) if body.school else None,
        "work": Work(tuple(body.work.sectors), body.work.tasks, body.work.hours_per_week,
                     tuple(body.work.hazards)) if body.work else None}
