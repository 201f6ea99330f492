"""Reading and writing identity's tables; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters.orm import (
    audit_log,
    decisions,
    link_clock,
    merges,
    non_links,
    persons,
    reviews,
    source_records,
)
from identity.adapters.record_index import details_of
from identity.domain.source_records import Details, RecordKey
from simpul_platform.audit import audit as write_audit


@dataclass(frozen=True)
class StoredRecord:
    """A source record as identity holds it."""

    key: RecordKey
    person_id: str
    village_code: str
    verified: bool
    details: Details | None


async def lock(session: AsyncSession) -> int:
    """Take the link lock (held until the transaction ends) and return this transaction's clock value."""
    statement = (update(link_clock).where(link_clock.c.id == 1).values(value=link_clock.c.value + 1)
                 .returning(link_clock.c.value))
    return int((await session.execute(statement)).scalar_one())


def _is(key: RecordKey) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (source_records.c.source_system == key.source_system,
            source_records.c.source_record_id == key.source_record_id)


async def record(session: AsyncSession, key: RecordKey) -> StoredRecord | None:
    """The record, or None when identity has not seen it."""
    row = (await session.execute(select(source_records).where(*_is(key)))).one_or_none()
    if row is None:
        return None
    details = details_of(row) if row.feature_version is not None else None
    return StoredRecord(key, row.person_id, row.village_code, row.link_verified, details)


async def save_details(session: AsyncSession, key: RecordKey, details: Details, *, version: str, seq: int,
                       nik_digest: str | None, person_id: str, at: dt.datetime, exists: bool) -> None:
    """Store a record's details (and its person, for a new record)."""
    values: dict[str, Any] = {
        "full_name": details.full_name, "sex": details.sex, "village_code": details.village_code,
        "birth_date": details.birth_date.isoformat() if details.birth_date else None,
        "birth_date_precision": details.birth_date_precision, "nik": details.nik, "kk_number": details.kk_number,
        "mother_name": details.mother_name, "nik_digest": nik_digest, "feature_version": version,
        "feature_seq": seq}
    if exists:
        await session.execute(update(source_records).where(*_is(key)).values(**values))
    else:
        await session.execute(insert(source_records).values(
            source_system=key.source_system, source_record_id=key.source_record_id, person_id=person_id,
            linked_at=at, **values))


async def move(session: AsyncSession, keys: Iterable[RecordKey], person_id: str, at: dt.datetime, *,
               verified: bool | None = None) -> None:
    """Link records to a person (and mark them verified or not, when given)."""
    values: dict[str, Any] = {"person_id": person_id, "linked_at": at}
    if verified is not None:
        values["link_verified"] = verified
    for key in keys:
        await session.execute(update(source_records).where(*_is(key)).values(**values))


async def set_verified(session: AsyncSession, keys: Iterable[RecordKey], verified: bool) -> None:
    """Mark records as placed (or no longer placed) by a reviewer."""
    for key in keys:
        await session.execute(update(source_records).where(*_is(key)).values(link_verified=verified))


async def records_of(session: AsyncSession, person_id: str) -> list[StoredRecord]:
    """The records linked to a person, without their details."""
    c = source_records.c
    rows = await session.execute(select(c.source_system, c.source_record_id, c.village_code, c.link_verified)
                                 .where(c.person_id == person_id).order_by(c.source_system, c.source_record_id))
    return [StoredRecord(RecordKey(system, record_id), person_id, village, verified, None)
            for system, record_id, village, verified in rows.tuples()]


async def add_person(session: AsyncSession, person_id: str, at: dt.datetime) -> None:
    """Create a person."""
    await session.execute(insert(persons).values(person_id=person_id, created_at=at))


async def person_exists(session: AsyncSession, person_id: str) -> tuple[bool, str | None]:
    """(exists, the person it was retired into or None)."""
    row = (await session.execute(select(persons.c.retired_into).where(persons.c.person_id == person_id))).first()
    return (row is not None, row.retired_into if row is not None else None)


async def retire(session: AsyncSession, person_id: str, into: str | None) -> None:
    """Retire a person into another (None brings it back)."""
    await session.execute(update(persons).where(persons.c.person_id == person_id).values(retired_into=into))


# --- verified non-links -----------------------------------------------------------------------------------------


def _pair(one: RecordKey, other: RecordKey) -> tuple[str, str]:
    a, b = sorted((str(one), str(other)))
    return a, b


async def add_non_links(session: AsyncSession, one: Iterable[RecordKey], others: Iterable[RecordKey],
                        decision_id: int) -> None:
    """Record that every record of `one` is another child than every record of `others`."""
    pairs = {_pair(a, b) for a in one for b in others if a != b}
    existing = await _existing_pairs(session, pairs)
    for a, b in sorted(pairs - existing):
        await session.execute(insert(non_links).values(record_a=a, record_b=b, decision_id=decision_id))


async def _existing_pairs(session: AsyncSession, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    if not pairs:
        return set()
    condition = or_(*(and_(non_links.c.record_a == a, non_links.c.record_b == b) for a, b in pairs))
    rows = await session.execute(select(non_links.c.record_a, non_links.c.record_b).where(condition))
    return set(rows.tuples())


async def non_linked_records(session: AsyncSession, key: RecordKey) -> set[RecordKey]:
    """Records a reviewer decided are another child than this one."""
    text = str(key)
    rows = await session.execute(select(non_links.c.record_a, non_links.c.record_b).where(
        or_(non_links.c.record_a == text, non_links.c.record_b == text)))
    return {RecordKey.parse(b if a == text else a) for a, b in rows.tuples()}


async def persons_of(session: AsyncSession, keys: Iterable[RecordKey]) -> set[str]:
    """The persons these records are linked to now."""
    found: set[str] = set()
    for key in keys:
        person = (await session.execute(select(source_records.c.person_id).where(*_is(key)))).scalar_one_or_none()
        if person is not None:
            found.add(person)
    return found


async def separated(session: AsyncSession, one: Sequence[RecordKey], others: Sequence[RecordKey]) -> bool:
    """Whether a verified non-link stands between any record of `one` and any of `others`."""
    pairs = {_pair(a, b) for a in one for b in others if a != b}
    return bool(await _existing_pairs(session, pairs))


# --- decisions, reviews, merges, audit ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A reviewer's decision, as stored."""

    kind: str
    person_id: str
    decided_by: str
    role: str
    at: dt.datetime
    reason: str | None
    record: RecordKey | None = None
    other_person_id: str | None = None
    review_id: str | None = None


async def add_decision(session: AsyncSession, decision: Decision) -> int:
    """Store a decision; its id."""
    statement = insert(decisions).values(
        kind=decision.kind, record=str(decision.record) if decision.record else None,
        person_id=decision.person_id, other_person_id=decision.other_person_id, review_id=decision.review_id,
        decided_by=decision.decided_by, role=decision.role, decided_at=decision.at,
        reason=(decision.reason or "")[:500] or None).returning(decisions.c.id)
    return int((await session.execute(statement)).scalar_one())


async def open_reviews_of(session: AsyncSession, key: RecordKey) -> list[dict[str, Any]]:
    """The record's open reviews."""
    c = reviews.c
    rows = await session.execute(select(reviews).where(
        c.source_system == key.source_system, c.source_record_id == key.source_record_id, c.status == "open"))
    return [dict(row._mapping) for row in rows]


async def add_review(session: AsyncSession, values: dict[str, Any]) -> None:
    """Queue a review."""
    await session.execute(insert(reviews).values(**values))


async def review(session: AsyncSession, review_id: str) -> dict[str, Any] | None:
    """One review."""
    row = (await session.execute(select(reviews).where(reviews.c.review_id == review_id))).first()
    return dict(row._mapping) if row is not None else None


async def update_review(session: AsyncSession, review_id: str, **values: Any) -> None:
    """Change a review's status or candidates."""
    await session.execute(update(reviews).where(reviews.c.review_id == review_id).values(**values))


async def reviews_in(session: AsyncSession, scope: Sequence[str], *, status: str | None, after: str | None,
                     limit: int) -> list[dict[str, Any]]:
    """Reviews of records in villages within the scope codes, ordered by id."""
    if not scope:
        return []
    c = reviews.c
    query = select(reviews).where(or_(*(or_(c.village_code == code, c.village_code.startswith(code + "."))
                                        for code in scope)))
    if status is not None:
        query = query.where(c.status == status)
    if after is not None:
        query = query.where(c.review_id > after)
    rows = await session.execute(query.order_by(c.review_id).limit(limit))
    return [dict(row._mapping) for row in rows]


async def add_merge(session: AsyncSession, values: dict[str, Any]) -> None:
    """Store a merge."""
    await session.execute(insert(merges).values(**values))


async def merge_retiring(session: AsyncSession, person_id: str) -> dict[str, Any] | None:
    """The merge in force that retired this person, if any."""
    c = merges.c
    row = (await session.execute(select(merges).where(c.retired_person_id == person_id, c.unmerged_at.is_(None))
                                 .order_by(c.merged_at.desc()).limit(1))).first()
    return dict(row._mapping) if row is not None else None


async def close_merge(session: AsyncSession, merge_id: str, by: str, at: dt.datetime) -> None:
    """Mark a merge undone."""
    await session.execute(update(merges).where(merges.c.merge_id == merge_id).values(unmerged_by=by, unmerged_at=at))


async def audit(session: AsyncSession, *, subject: str, role: str, action: str, resource: str, resource_id: str,
                reason: str | None) -> None:
    """Write who did what to which resource, when and why."""
    await write_audit(session, audit_log, subject=subject, role=role, action=action, resource=resource,
                      resource_ids=[resource_id], reason=reason)
