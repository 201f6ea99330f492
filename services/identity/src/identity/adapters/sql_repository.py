"""Identity's repositories over SQL, every one under the link lock of its unit of work (see `links.LinkLock`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, insert, or_, select, update

from identity.adapters import repository as repositories
from identity.adapters.erasure import erase_decision_reasons, erased_values
from identity.adapters.links import LinkLock, SessionMatcher
from identity.adapters.orm import decisions, merges, non_links, persons, reviews, source_records
from identity.adapters.record_index import SEALED_COLUMNS, details_of, stored_records
from identity.adapters.review_rows import review_of, review_row
from identity.domain.decisions import Decision
from identity.domain.person import Merge, Person
from identity.domain.records import Record
from identity.domain.review import Review, ReviewStatus
from identity.domain.source_records import RecordKey, SourceRecord
from simpul_platform.field_encryption import blind_index, row_key, seal


def _is(key: RecordKey) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (source_records.c.source_system == key.source_system,
            source_records.c.source_record_id == key.source_record_id)


def _record(row: Row[Any]) -> SourceRecord:
    details = details_of(row) if row.feature_version is not None else None
    return SourceRecord(RecordKey(row.source_system, row.source_record_id), row.person_id, row.village_code,
                        row.link_verified, details, row.linked_at, _utc(row.details_recorded_at),
                        _utc(row.erased_at))


def _utc(at: dt.datetime | None) -> dt.datetime | None:
    """A stored time as an aware one (SQLite gives it back without its offset; it was stored in UTC)."""
    return at.replace(tzinfo=dt.UTC) if at is not None and at.tzinfo is None else at


class SqlSourceRecords(repositories.SourceRecords):
    """Source records in `source_records`, details encrypted, NIK also as a blind index."""

    def __init__(self, lock: LinkLock, matcher: SessionMatcher, digest_key: bytes) -> None:
        self.lock, self.session, self.matcher, self.digest_key = lock, lock.session, matcher, digest_key
        self._stored: set[RecordKey] = set()  # read in this transaction, so `save` updates instead of inserting

    async def get(self, key: RecordKey) -> SourceRecord | None:
        """The record, or None when identity has not seen it."""
        await self.lock.hold()
        row = (await self.session.execute(select(source_records).where(*_is(key)))).one_or_none()
        if row is None:
            return None
        self._stored.add(key)
        return _record(row)

    async def save(self, record: SourceRecord) -> None:
        """Store the record's details under a fresh version stamped with the link clock; the matcher indexes it.
        A record not read in this transaction is a new one."""
        assert record.details is not None, "linking always stores details"
        details, version = record.details, uuid.uuid4().hex
        row = row_key(record.key.source_system, record.key.source_record_id)
        sealed: dict[str, str | None] = {
            "full_name": details.full_name,
            "birth_date": details.birth_date.isoformat() if details.birth_date else None,
            "nik": details.nik, "kk_number": details.kk_number, "mother_name": details.mother_name}
        values: dict[str, Any] = {name: seal(row, sealed[name]) for name in SEALED_COLUMNS} | {
            "sex": details.sex, "village_code": details.village_code,
            "birth_date_precision": details.birth_date_precision, "feature_version": version,
            "feature_seq": await self.lock.hold(),
            "nik_digest": blind_index(details.nik, self.digest_key) if details.nik else None,
            "person_id": record.person_id, "linked_at": record.linked_at, "link_verified": record.verified,
            "details_recorded_at": record.recorded_at.astimezone(dt.UTC) if record.recorded_at else None}
        await self.matcher.ready()
        await self._write(record.key, values)
        self.matcher.add(record.key, version, details)

    async def erase(self, record: SourceRecord) -> None:
        """Store the erased record: no details, no matching version (the index forgets it at commit), its person
        kept."""
        await self._write(record.key, erased_values(record, await self.lock.hold()))
        await erase_decision_reasons(self.session, record)
        self.matcher.erased(record.key)

    async def _write(self, key: RecordKey, values: dict[str, Any]) -> None:
        """Update the row read in this transaction, or insert a new one."""
        if key in self._stored:
            await self.session.execute(update(source_records).where(*_is(key)).values(**values))
        else:
            await self.session.execute(insert(source_records).values(
                source_system=key.source_system, source_record_id=key.source_record_id, **values))
            self._stored.add(key)

    async def note_recorded(self, key: RecordKey, recorded_at: dt.datetime) -> None:
        """Keep the time the unchanged details were recorded again (the matcher's version stays)."""
        await self.lock.hold()
        await self.session.execute(update(source_records).where(*_is(key)).values(
            details_recorded_at=recorded_at.astimezone(dt.UTC)))

    async def persons_of(self, keys: Iterable[RecordKey]) -> set[str]:
        """The persons these records are linked to now."""
        await self.lock.hold()
        found: set[str] = set()
        for key in keys:
            query = select(source_records.c.person_id).where(*_is(key))
            person = (await self.session.execute(query)).scalar_one_or_none()
            if person is not None:
                found.add(person)
        return found

    async def keys(self) -> list[RecordKey]:
        """The keys of every record with details, ordered (read without the link lock: it changes nothing)."""
        c = source_records.c
        rows = await self.session.execute(select(c.source_system, c.source_record_id)
                                          .where(c.feature_version.is_not(None))
                                          .order_by(c.source_system, c.source_record_id))
        return [RecordKey(system, record_id) for system, record_id in rows.tuples()]

    async def all_details(self) -> list[Record]:
        """Every record's current details (read without the link lock: a long read that changes nothing)."""
        return await stored_records(self.session)


class SqlPersons(repositories.Persons):
    """Persons in `persons`, their records in `source_records`."""

    def __init__(self, lock: LinkLock) -> None:
        self.lock, self.session = lock, lock.session

    async def get(self, person_id: str) -> Person | None:
        """The person with its records, ordered by key."""
        await self.lock.hold()
        row = (await self.session.execute(select(persons).where(persons.c.person_id == person_id))).first()
        if row is None:
            return None
        c = source_records.c
        rows = await self.session.execute(select(source_records).where(c.person_id == person_id)
                                          .order_by(c.source_system, c.source_record_id))
        return Person(person_id, row.created_at, [_record(r) for r in rows], row.retired_into)

    async def add(self, person: Person) -> None:
        """Store a new person and link its records to it."""
        await self.lock.hold()
        await self.session.execute(insert(persons).values(person_id=person.person_id, created_at=person.created_at))
        await self._link(person)

    async def save(self, person: Person) -> None:
        """Store whether the person is retired and where its records are."""
        await self.lock.hold()
        await self.session.execute(update(persons).where(persons.c.person_id == person.person_id)
                                   .values(retired_into=person.retired_into))
        await self._link(person)

    async def _link(self, person: Person) -> None:
        for record in person.records:
            await self.session.execute(update(source_records).where(*_is(record.key)).values(
                person_id=person.person_id, linked_at=record.linked_at, link_verified=record.verified))


class SqlReviews(repositories.Reviews):
    """The review queue in `reviews` (candidates as JSON)."""

    def __init__(self, lock: LinkLock) -> None:
        self.lock, self.session = lock, lock.session

    async def get(self, review_id: str) -> Review | None:
        """One review."""
        await self.lock.hold()
        row = (await self.session.execute(select(reviews).where(reviews.c.review_id == review_id))).first()
        return review_of(row._mapping) if row is not None else None

    async def open_for(self, key: RecordKey) -> list[Review]:
        """The record's open reviews."""
        await self.lock.hold()
        c = reviews.c
        rows = await self.session.execute(select(reviews).where(
            c.source_system == key.source_system, c.source_record_id == key.source_record_id,
            c.status == ReviewStatus.OPEN.value).order_by(c.review_id))
        return [review_of(row._mapping) for row in rows]

    async def in_scope(self, scope: Sequence[str], *, status: str | None, after: str | None,
                       limit: int) -> list[Review]:
        """Reviews of records in villages within the scope codes, ordered by id."""
        if not scope:
            return []
        await self.lock.hold()
        c = reviews.c
        query = select(reviews).where(or_(*(or_(c.village_code == code, c.village_code.startswith(code + "."))
                                            for code in scope)))
        if status is not None:
            query = query.where(c.status == status)
        if after is not None:
            query = query.where(c.review_id > after)
        rows = await self.session.execute(query.order_by(c.review_id).limit(limit))
        return [review_of(row._mapping) for row in rows]

    async def add(self, review: Review) -> None:
        """Queue a review."""
        await self.lock.hold()
        await self.session.execute(insert(reviews).values(**review_row(review)))

    async def save(self, review: Review) -> None:
        """Store the review's status and decisions."""
        await self.lock.hold()
        row = review_row(review)
        await self.session.execute(update(reviews).where(reviews.c.review_id == review.review_id).values(
            status=row["status"], candidates=row["candidates"], resolved_at=row["resolved_at"],
            resolved_by=row["resolved_by"]))


def _pair(one: RecordKey, other: RecordKey) -> tuple[str, str]:
    a, b = sorted((str(one), str(other)))
    return a, b


class SqlDecisions(repositories.Decisions):
    """Decisions in `decisions`, verified non-links in `non_links` (pairs a < b, as `system:id`)."""

    def __init__(self, lock: LinkLock) -> None:
        self.lock, self.session = lock, lock.session

    async def add(self, decision: Decision) -> int:
        """Store a decision; its id."""
        await self.lock.hold()
        statement = insert(decisions).values(
            kind=decision.kind.value, record=str(decision.record) if decision.record else None,
            person_id=decision.person_id, other_person_id=decision.other_person_id, review_id=decision.review_id,
            decided_by=decision.decided_by, role=decision.role, decided_at=decision.at,
            reason=(decision.reason or "")[:500] or None).returning(decisions.c.id)
        return int((await self.session.execute(statement)).scalar_one())

    async def add_non_links(self, one: Iterable[RecordKey], others: Iterable[RecordKey], decision_id: int) -> None:
        """Record that every record of `one` is another child than every record of `others`."""
        others = list(others)
        pairs = {_pair(a, b) for a in one for b in others if a != b}
        existing = await self._existing(pairs)
        for a, b in sorted(pairs - existing):
            await self.session.execute(insert(non_links).values(record_a=a, record_b=b, decision_id=decision_id))

    async def separated(self, one: Sequence[RecordKey], others: Sequence[RecordKey]) -> bool:
        """Whether a verified non-link stands between any record of `one` and any of `others`."""
        return bool(await self._existing({_pair(a, b) for a in one for b in others if a != b}))

    async def non_linked(self, key: RecordKey) -> set[RecordKey]:
        """Records a reviewer decided are another child than this one."""
        await self.lock.hold()
        text = str(key)
        rows = await self.session.execute(select(non_links.c.record_a, non_links.c.record_b).where(
            or_(non_links.c.record_a == text, non_links.c.record_b == text)))
        return {RecordKey.parse(b if a == text else a) for a, b in rows.tuples()}

    async def _existing(self, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        await self.lock.hold()
        if not pairs:
            return set()
        condition = or_(*(and_(non_links.c.record_a == a, non_links.c.record_b == b) for a, b in pairs))
        rows = await self.session.execute(select(non_links.c.record_a, non_links.c.record_b).where(condition))
        return set(rows.tuples())


class SqlMerges(repositories.Merges):
    """Merges in `merges` (records as `system:id`)."""

    def __init__(self, lock: LinkLock) -> None:
        self.lock, self.session = lock, lock.session

    async def add(self, merge: Merge) -> None:
        """Store a merge."""
        await self.lock.hold()
        await self.session.execute(insert(merges).values(
            merge_id=merge.merge_id, surviving_person_id=merge.surviving_person_id,
            retired_person_id=merge.retired_person_id, moved_records=[str(k) for k in merge.moved],
            verified_by_merge=[str(k) for k in merge.verified_by_merge], merged_by=merge.merged_by,
            merged_at=merge.merged_at))

    async def in_force_retiring(self, person_id: str) -> Merge | None:
        """The merge in force that retired this person, if any."""
        await self.lock.hold()
        c = merges.c
        row = (await self.session.execute(select(merges).where(c.retired_person_id == person_id,
                                                               c.unmerged_at.is_(None))
                                          .order_by(c.merged_at.desc()).limit(1))).first()
        if row is None:
            return None
        return Merge(row.merge_id, row.surviving_person_id, row.retired_person_id,
                     tuple(map(RecordKey.parse, row.moved_records)), tuple(map(RecordKey.parse, row.verified_by_merge)),
                     row.merged_by, row.merged_at, row.unmerged_by, row.unmerged_at)

    async def save(self, merge: Merge) -> None:
        """Store who undid the merge and when."""
        await self.lock.hold()
        await self.session.execute(update(merges).where(merges.c.merge_id == merge.merge_id).values(
            unmerged_by=merge.unmerged_by, unmerged_at=merge.unmerged_at))


