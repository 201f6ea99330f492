"""Registry use cases shared by the child endpoints: villages, audit, idempotency keys, identity's links."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters import orm
from registry.domain.errors import RegistryError
from simpul_platform.audit import audit
from simpul_platform.auth import Principal


class IdempotencyKeyReused(RegistryError):
    """A key sent again with a different request."""

    def __init__(self) -> None:
        super().__init__("Idempotency-Key", "was already used for a different request")


async def is_current_village(session: AsyncSession, code: str) -> bool:
    """True when `code` is a village of the reference data that has not been retired."""
    regions = orm.regions.c
    query = select(regions.code).where(
        regions.code == code, regions.retired_at.is_(None), regions.level.in_(["desa", "kelurahan"])
    )
    return (await session.execute(query)).first() is not None


async def is_known_kecamatan(session: AsyncSession, code: str) -> bool:
    """True when `code` is a kecamatan of the reference data, retired ones included (NIKs keep old codes)."""
    regions = orm.regions.c
    query = select(regions.code).where(regions.code == code, regions.level == "kecamatan")
    return (await session.execute(query)).first() is not None


async def region_codes(session: AsyncSession) -> tuple[list[str], list[str]]:
    """Every current village code and every kecamatan code (retired included), for checks in bulk."""
    regions = orm.regions.c
    rows = (await session.execute(select(regions.code, regions.level, regions.retired_at).where(
        regions.level.in_(["desa", "kelurahan", "kecamatan"])))).all()
    villages = [r.code for r in rows if r.level != "kecamatan" and r.retired_at is None]
    return villages, [r.code for r in rows if r.level == "kecamatan"]


async def record_access(session: AsyncSession, principal: Principal, action: str, child_id: str,
                        reason: str | None) -> None:
    """Audit an access to a child record: who, what, when, why."""
    await audit(session, orm.audit_log, subject=principal.subject, role=principal.role.value, action=action,
                resource="child", resource_ids=[child_id], reason=reason)


def fingerprint(target: str, body: Any) -> str:
    """A digest of a request (where it went and its validated body) to tell a retry from a reuse of its key."""
    canonical = json.dumps([target, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def replayed(session: AsyncSession, principal: Principal, key: str, digest: str) -> str | None:
    """The resource a key already created, None for a new key; IdempotencyKeyReused for another request."""
    k = orm.idempotency_keys.c
    query = select(k.fingerprint, k.resource_id).where(k.subject == principal.subject, k.key == key)
    row = (await session.execute(query)).first()
    if row is None:
        return None
    if row.fingerprint != digest:
        raise IdempotencyKeyReused
    return str(row.resource_id)


async def remember(session: AsyncSession, principal: Principal, key: str, digest: str, resource_id: str) -> None:
    """Keep the key with what it created, in the transaction that created it."""
    await session.execute(insert(orm.idempotency_keys).values(
        subject=principal.subject, key=key, fingerprint=digest, resource_id=resource_id,
        created_at=dt.datetime.now(dt.UTC)))
