"""Link each incoming source record to a person (an existing one or a new one) and announce it through the outbox.

The rules, in order:
1. A record that arrives again with the details identity already holds changes nothing: redelivered or resent,
   it is linked once.
2. A record a reviewer placed (a verified link, or either side of a merge) stays where the reviewer put it; only its
   details are updated. Automatic matching never overrides a human decision.
3. Persons holding a record a reviewer declared another child (a verified non-link) are never candidates.
4. One candidate at or above the auto-link threshold, not vetoed by a rule (siblings, two own NIKs): link to it.
   Two or more: it is not ours to choose, so a reviewer decides. A false merge (two children's cases mixed) is the
   worst error, so an unsure match is never a link.
5. Otherwise the record keeps a person of its own (the one it had, if no other record shares it; else a new one),
   and candidates in the review band go to a reviewer with `review requested`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters import repository
from identity.adapters.repository import StoredRecord
from identity.service_layer.matching_port import Candidate, Details, Matcher, RecordKey
from simpul_contracts import CloudEvent
from simpul_contracts.events import ChildIdentityRecordedV1, RecordLinkedV1, ReviewRequestedV1
from simpul_contracts.events.identity import LinkReason
from simpul_platform.field_encryption import blind_index
from simpul_platform.outbox import Outbox

DISTRICT_LENGTH = 5  # "35.09" of "35.09.11.2007"


@dataclass(frozen=True)
class Linking:
    """What linking needs besides a session: the outbox, the matcher and the NIK blind index key."""

    outbox: Outbox
    matcher: Matcher
    digest_key: bytes


@dataclass(frozen=True)
class Placement:
    """Where matching puts a record: an existing person (None: a person of its own) and what a reviewer should see."""

    person_id: str | None
    to_review: list[Candidate] = field(default_factory=list)


def new_person_id() -> str:
    """An opaque person id, never reused."""
    return f"per_{uuid.uuid4().hex}"


def details_of(event: ChildIdentityRecordedV1) -> Details:
    """The details of a registry record."""
    return Details(full_name=event.full_name, sex=event.sex.value, village_code=event.village_code,
                   birth_date=event.birth_date,
                   birth_date_precision=event.birth_date_precision.value if event.birth_date_precision else None,
                   nik=event.nik, kk_number=event.kk_number, mother_name=event.mother_name)


async def link_record(session: AsyncSession, event: ChildIdentityRecordedV1, _envelope: CloudEvent, *,
                      linking: Linking) -> None:
    """Consumer handler: find the record's person (or create one) and announce a changed link or an unsure match."""
    key, details = RecordKey(event.source_system, event.source_record_id), details_of(event)
    clock = await repository.lock(session)
    stored = await repository.record(session, key)
    if stored is not None and stored.details == details:
        return
    await linking.matcher.prepare()
    now = dt.datetime.now(dt.UTC)
    placement = Placement(stored.person_id) if stored is not None and stored.verified else (
        await place(session, linking.matcher, key, details))
    person_id = placement.person_id or await _own_person(session, key, stored, now)
    version = uuid.uuid4().hex
    digest = blind_index(details.nik, linking.digest_key) if details.nik else None
    await repository.save_details(session, key, details, version=version, seq=clock, nik_digest=digest,
                                  person_id=person_id, at=now, exists=stored is not None)
    linking.matcher.add(key, version, details)
    if stored is None or stored.person_id != person_id:
        if stored is not None:
            await repository.move(session, [key], person_id, now)
        reason = LinkReason.AUTOMATIC_MATCH if placement.person_id else LinkReason.NEW_PERSON
        await announce(session, linking.outbox, [(key, details.village_code)], person_id=person_id, reason=reason,
                       at=now)
    if stored is None or not stored.verified:
        await request_review(session, linking.outbox, key, person_id=person_id, village_code=details.village_code,
                             candidates=placement.to_review)


async def place(session: AsyncSession, matcher: Matcher, key: RecordKey, details: Details) -> Placement:
    """Where automatic matching puts a record (rules 3 to 5 of the module docstring)."""
    candidates = await matcher.candidates(session, key, details)
    excluded = await repository.persons_of(session, await repository.non_linked_records(session, key))
    allowed = [c for c in candidates if not c.vetoed and c.person_id not in excluded]
    sure = [c for c in allowed if c.score >= matcher.thresholds.auto_link]
    if len(sure) == 1:
        return Placement(sure[0].person_id)
    return Placement(None, [c for c in allowed if c.score >= matcher.thresholds.review])


async def _own_person(session: AsyncSession, key: RecordKey, stored: StoredRecord | None, at: dt.datetime) -> str:
    if stored is not None:
        sharing = [r for r in await repository.records_of(session, stored.person_id) if r.key != key]
        if not sharing:
            return stored.person_id
    person_id = new_person_id()
    await repository.add_person(session, person_id, at)
    return person_id


async def announce(session: AsyncSession, outbox: Outbox, records: Iterable[tuple[RecordKey, str]], *,
                   person_id: str, reason: LinkReason, at: dt.datetime) -> None:
    """Publish `record linked` for records (key, village code) now linked to a person."""
    await outbox.add(session, *(RecordLinkedV1(
        source_system=key.source_system, source_record_id=key.source_record_id, person_id=person_id,
        village_code=village, reason=reason, linked_at=at) for key, village in records))


async def request_review(session: AsyncSession, outbox: Outbox, key: RecordKey, *, person_id: str,
                         village_code: str, candidates: Sequence[Candidate]) -> None:
    """Queue a review of the record against its candidates, superseding an open one that asked something else."""
    now = dt.datetime.now(dt.UTC)
    wanted = {c.person_id for c in candidates}
    for open_review in await repository.open_reviews_of(session, key):
        asked = {c["person_id"] for c in open_review["candidates"]}
        if asked == wanted and open_review["person_id"] == person_id:
            return
        await repository.update_review(session, open_review["review_id"], status="superseded", resolved_at=now)
    if not candidates:
        return
    review_id = f"rev_{uuid.uuid4().hex}"
    await repository.add_review(session, {
        "review_id": review_id, "source_system": key.source_system, "source_record_id": key.source_record_id,
        "person_id": person_id, "village_code": village_code, "district_code": village_code[:DISTRICT_LENGTH],
        "status": "open", "requested_at": now, "candidates": [_candidate_row(c) for c in candidates]})
    await outbox.add(session, ReviewRequestedV1(
        review_id=review_id, source_system=key.source_system, source_record_id=key.source_record_id,
        person_id=person_id, village_code=village_code, candidate_person_ids=[c.person_id for c in candidates],
        candidate_scores=[c.score for c in candidates], requested_at=now))


def _candidate_row(candidate: Candidate) -> dict[str, object]:
    return {"person_id": candidate.person_id, "score": candidate.score, "vetoed": candidate.vetoed,
            "decision": None, "contributions": [
                {"field": c.field, "level": c.level, "weight": c.weight} for c in candidate.contributions]}
