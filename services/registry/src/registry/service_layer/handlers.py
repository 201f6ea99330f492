"""Registry use cases: small functions over a session, each one transaction decided by the caller."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters import contract_mapping, orm
from registry.domain.errors import UnknownVillage
from registry.domain.model import Child, DatePrecision, Sex, new_child_id
from simpul_contracts import CloudEvent
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.auth import Principal
from simpul_platform.outbox import Outbox


@dataclass(frozen=True)
class RegisterChild:
    """Command: register a child found by a cadre."""

    full_name: str
    sex: Sex
    village_code: str
    source_system: str
    source_record_id: str | None = None
    birth_date: dt.date | None = None
    birth_date_precision: DatePrecision | None = None
    mother_name: str | None = None


async def register_child(session: AsyncSession, outbox: Outbox, command: RegisterChild) -> Child:
    """Store the child and queue the restricted identity event in the same transaction."""
    if not await is_current_village(session, command.village_code):
        raise UnknownVillage
    child_id = new_child_id()
    child = Child(
        child_id=child_id,
        full_name=command.full_name,
        sex=command.sex,
        village_code=command.village_code,
        source_system=command.source_system,
        source_record_id=command.source_record_id or child_id,
        registered_at=dt.datetime.now(dt.UTC),
        birth_date=command.birth_date,
        birth_date_precision=command.birth_date_precision,
        mother_name=command.mother_name,
    )
    session.add(child)
    await session.flush()
    await outbox.add(session, contract_mapping.identity_recorded(child))
    return child


async def is_current_village(session: AsyncSession, code: str) -> bool:
    """True when `code` is a village of the reference data that has not been retired."""
    regions = orm.regions.c
    query = select(regions.code).where(
        regions.code == code, regions.retired_at.is_(None), regions.level.in_(["desa", "kelurahan"])
    )
    return (await session.execute(query)).first() is not None


async def get_child(session: AsyncSession, child_id: str) -> Child | None:
    """The child, or None."""
    return await session.get(Child, child_id)


async def record_read(session: AsyncSession, principal: Principal, child_id: str, reason: str | None) -> None:
    """Audit a read of a child record: who, what, when, why."""
    await session.execute(
        insert(orm.audit_log).values(
            at=dt.datetime.now(dt.UTC),
            subject=principal.subject,
            role=principal.role.value,
            action="read",
            resource="child",
            resource_id=child_id,
            reason=(reason or "")[:500] or None,
        )
    )


async def attach_person(session: AsyncSession, event: RecordLinkedV1, _envelope: CloudEvent) -> None:
    """Identity linked one of our records to a person: keep the person id on the child."""
    query = select(Child).where(
        orm.children.c.source_system == event.source_system,
        orm.children.c.source_record_id == event.source_record_id,
    )
    child = (await session.execute(query)).scalar_one_or_none()
    if child is not None:
        child.link_to_person(event.person_id)
