"""What every child endpoint shares: the runtime, domain errors as problems, ETags, idempotent creates, views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.children_repository import ChildRecord
from registry.domain.case import Case, CaseChangeRefused
from registry.domain.case_lifecycle import ClosureRefused, InvalidTransition
from registry.domain.consent import ConsentPurpose, ConsentRefused, GuardianConsent
from registry.domain.errors import RegistryError
from registry.entrypoints.http import schemas
from registry.service_layer import children, handlers
from simpul_platform.auth import Principal, Role, require
from simpul_platform.problems import Problem
from simpul_platform.runtime import ServiceRuntime

FieldStaff = Annotated[Principal, Depends(require(Role.CADRE, Role.DISTRICT_OFFICER, Role.SERVICE))]
AccessReason = Annotated[str | None, Header(alias="X-Access-Reason", max_length=500)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=100)]
# Ids are opaque (`chd_` and hex): anything else cannot name a child, and a NUL would not even reach the database.
CHILD_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
ChildId = Annotated[str, Path(max_length=40, pattern=CHILD_ID_PATTERN, description="The child's id")]
# A state the request cannot change (409) as opposed to a request that is wrong in itself (422).
_CONFLICTS = (InvalidTransition, ClosureRefused, CaseChangeRefused, ConsentRefused, children.CaseRequired,
              handlers.IdempotencyKeyReused)
_STATUS_OF: tuple[tuple[type[RegistryError] | tuple[type[RegistryError], ...], int, str], ...] = (
    (children.ChildNotFound, 404, "Child not found"),
    (children.OutsideScope, 403, "Outside your scope"),
    (children.StaleVersion, 412, "Precondition failed"),
    (_CONFLICTS, 409, "Conflict"),
)


def runtime_of(request: Request) -> ServiceRuntime:
    """The service runtime."""
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def registry_of(request: Request) -> children.Registry:
    """The registry's use-case dependencies."""
    registry: children.Registry = request.app.state.registry
    return registry


def problem(error: RegistryError) -> Problem:
    """The problem+json for a domain error, naming the field and the reason."""
    status, title = next(((s, t) for kind, s, t in _STATUS_OF if isinstance(error, kind)), (422, "Invalid request"))
    return Problem(status, title, str(error), [{"field": error.field, "reason": error.reason}])


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


async def create_once(runtime: ServiceRuntime, principal: Principal, key: str | None, digest: str,
                      create: Callable[[AsyncSession], Awaitable[str]]) -> str:
    """Run a create at most once per idempotency key; a retry gets the id of what the first attempt created."""
    for attempt in (1, 2):
        try:
            async with runtime.transaction() as session:
                if key is not None and (existing := await handlers.replayed(session, principal, key, digest)):
                    return existing
                created = await create(session)
                if key is not None:
                    await handlers.remember(session, principal, key, digest, created)
            return created
        except RegistryError as error:
            raise problem(error) from None
        except IntegrityError:
            # Two attempts with one key raced: the loser's transaction rolled back; look again for the winner's.
            if key is None or attempt == 2:
                raise
    raise AssertionError("unreachable")


def case_view(case: Case | None) -> schemas.CaseRead | None:
    """The case as the API shows it."""
    if case is None:
        return None
    assessment = case.withdrawal_assessment(dt.datetime.now(dt.UTC).date())
    return schemas.CaseRead(case_id=case.case_id, status=case.status, classification=case.classification,
                            closure_reason=case.closure_reason, withdrawal_rule=assessment.explanation)


def child_view(record: ChildRecord, case: Case | None) -> schemas.ChildRead:
    """The record as the API shows it."""
    child = record.child
    precision: Any = "estimated" if record.birth_date_estimated else child.birth_date_precision
    return schemas.ChildRead(
        child_id=child.child_id, version=record.version, full_name=child.full_name, aliases=record.aliases,
        sex=child.sex, village_code=child.village_code, birth_date=child.birth_date, birth_date_precision=precision,
        mother_name=child.mother_name, nik=record.nik, kk_number=record.kk_number,
        identity_warnings=[schemas.IdentityWarning(**w) for w in record.identity_warnings],
        guardians=[schemas.Guardian(**g) for g in record.guardians],
        school=schemas.School(**record.school) if record.school else None,
        work=schemas.Work(**record.work) if record.work else None, source_system=child.source_system,
        source_record_id=child.source_record_id, person_id=child.person_id, registered_at=child.registered_at,
        case=case_view(case))


def consent_view(consent: GuardianConsent) -> schemas.ConsentRead:
    """Consent as the API shows it."""
    purposes = {purpose: consent.decision(purpose) for purpose in ConsentPurpose}
    history = [schemas.ConsentEntry(purpose=r.purpose, decision=r.decision, decided_on=r.decided_on,
                                    recorded_by=r.recorded_by, recorded_at=r.recorded_at) for r in consent.records]
    return schemas.ConsentRead(in_force=purposes, history=history)
