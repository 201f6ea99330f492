"""Link an incoming source record to a person, and announce it through the outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters.orm import persons, source_records
from identity.domain.matching import Observation, new_person_id
from simpul_contracts import CloudEvent
from simpul_contracts.events import ChildIdentityRecordedV1, RecordLinkedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.field_encryption import blind_index
from simpul_platform.outbox import Outbox


async def link_record(
    session: AsyncSession, event: ChildIdentityRecordedV1, _envelope: CloudEvent, *, outbox: Outbox, digest_key: bytes
) -> None:
    """Find the record's person (or create one) and publish `record linked` when the link is new or changed."""
    observation = Observation(event.full_name, event.sex.value, event.birth_date, event.village_code)
    digest = blind_index(event.nik, digest_key) if event.nik else None
    now = dt.datetime.now(dt.UTC)
    current = await _current_person(session, event)
    person_id, reason = await _match(session, observation.exact_key(), digest)
    if person_id is None:
        person_id, reason = new_person_id(), LinkReason.NEW_PERSON
        await session.execute(insert(persons).values(person_id=person_id, created_at=now))
    values = {"person_id": person_id, "exact_key": observation.exact_key(), "nik_digest": digest,
              "village_code": event.village_code, "linked_at": now}
    if current is None:
        await session.execute(insert(source_records).values(
            source_system=event.source_system, source_record_id=event.source_record_id, **values))
    else:
        await session.execute(update(source_records).where(*_record(event)).values(**values))
    if current != person_id:
        await outbox.add(session, RecordLinkedV1(
            source_system=event.source_system, source_record_id=event.source_record_id, person_id=person_id,
            village_code=event.village_code, reason=reason, linked_at=now))


def _record(event: ChildIdentityRecordedV1) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (source_records.c.source_system == event.source_system,
            source_records.c.source_record_id == event.source_record_id)


async def _current_person(session: AsyncSession, event: ChildIdentityRecordedV1) -> str | None:
    query = select(source_records.c.person_id).where(*_record(event))
    return (await session.execute(query)).scalar_one_or_none()


async def _match(session: AsyncSession, exact_key: str, digest: str | None) -> tuple[str | None, LinkReason]:
    condition = source_records.c.exact_key == exact_key
    if digest is not None:
        condition = or_(condition, source_records.c.nik_digest == digest)
    query = select(source_records.c.person_id).where(condition).limit(1)
    person_id = (await session.execute(query)).scalar_one_or_none()
    return person_id, LinkReason.AUTOMATIC_MATCH
