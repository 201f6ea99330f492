"""The review queue: reviewers see unsure matches in their districts, with why each scored as it did, and decide.

Accepting a candidate is a verified link: the record joins that person, and it and the person's records are
marked as placed by a reviewer, so automatic matching never moves them again. Rejecting a candidate is a verified
non-link between the record and every record the person holds: neither is ever matched to the other's person
again, whichever arrives next. Every read and decision is audited; callers own the transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from identity.adapters import repository
from identity.adapters.repository import Decision, StoredRecord
from identity.service_layer.errors import Conflict, NotFound
from identity.service_layer.linking import Linking, announce, new_person_id
from identity.service_layer.matching_port import RecordKey
from simpul_contracts.events.identity import LinkReason
from simpul_platform.auth import Principal

OPEN, ACCEPTED, REJECTED = "open", "accepted", "rejected"


@dataclass(frozen=True)
class Actor:
    """Who asks, and why (X-Access-Reason)."""

    principal: Principal
    reason: str | None

    async def audit(self, session: AsyncSession, action: str, resource: str, resource_id: str) -> None:
        """Write the access to the audit log."""
        await repository.audit(session, subject=self.principal.subject, role=self.principal.role.value,
                               action=action, resource=resource, resource_id=resource_id, reason=self.reason)

    def decision(self, kind: str, person_id: str, **more: Any) -> Decision:
        """A decision taken now by this actor."""
        return Decision(kind, person_id, self.principal.subject, self.principal.role.value,
                        dt.datetime.now(dt.UTC), self.reason, **more)


@dataclass(frozen=True)
class RecordView:
    """A record as a reviewer sees it: details only when its village is in the reviewer's scope."""

    record: StoredRecord
    shown: bool


@dataclass(frozen=True)
class ReviewView:
    """A review with the record under review and the records each candidate person holds now."""

    review: dict[str, Any]
    record: RecordView | None
    candidate_records: dict[str, list[RecordView]]


async def list_reviews(session: AsyncSession, actor: Actor, *, status: str | None, after: str | None,
                       limit: int) -> list[dict[str, Any]]:
    """Reviews of records in the caller's villages or districts (each listing audited)."""
    found = await repository.reviews_in(session, actor.principal.scope, status=status, after=after, limit=limit)
    for review in found:
        await actor.audit(session, "list", "review", review["review_id"])
    return found


async def read_review(session: AsyncSession, actor: Actor, review_id: str) -> ReviewView:
    """One review in scope, with the records behind it (audited)."""
    review = await _in_scope(session, actor, review_id)
    key = RecordKey(review["source_system"], review["source_record_id"])
    record = await repository.record(session, key)
    candidates = {c["person_id"]: [await _view(session, actor, r.key)
                                   for r in await repository.records_of(session, c["person_id"])]
                  for c in review["candidates"]}
    await actor.audit(session, "read", "review", review_id)
    return ReviewView(review, RecordView(record, True) if record else None, candidates)


async def _view(session: AsyncSession, actor: Actor, key: RecordKey) -> RecordView:
    record = await repository.record(session, key)
    assert record is not None
    return RecordView(record, actor.principal.covers_region(record.village_code))


async def accept(session: AsyncSession, linking: Linking, actor: Actor, review_id: str, person_id: str) -> str:
    """Verified link: the record under review is the candidate person; returns the person it is linked to now."""
    await repository.lock(session)
    review, key = await _open_review(session, actor, review_id, person_id)
    target = await surviving(session, person_id)
    target_records = await repository.records_of(session, target)
    if await repository.separated(session, [key], [r.key for r in target_records]):
        raise Conflict("person_id", "a reviewer decided this record is another child than this person")
    stored = await repository.record(session, key)
    assert stored is not None
    now = dt.datetime.now(dt.UTC)
    await repository.add_decision(session, actor.decision("verified_link", target, record=key, review_id=review_id))
    await repository.move(session, [key], target, now, verified=True)
    await repository.set_verified(session, [r.key for r in target_records], True)
    if stored.person_id != target:
        await announce(session, linking.outbox, [(key, stored.village_code)], person_id=target,
                       reason=LinkReason.VERIFIED, at=now)
    await _decide(session, actor, review, person_id, ACCEPTED, closes=True)
    return target


async def reject(session: AsyncSession, linking: Linking, actor: Actor, review_id: str, person_id: str) -> str:
    """Verified non-link: the record under review is another child than the candidate; returns its person now."""
    await repository.lock(session)
    review, key = await _open_review(session, actor, review_id, person_id)
    target = await surviving(session, person_id)
    target_records = [r.key for r in await repository.records_of(session, target) if r.key != key]
    decision = await repository.add_decision(
        session, actor.decision("verified_non_link", target, record=key, review_id=review_id))
    await repository.add_non_links(session, [key], target_records, decision)
    stored = await repository.record(session, key)
    assert stored is not None
    person_now = stored.person_id
    if person_now == target and target_records:  # linked there since the review was asked: split it off
        now = dt.datetime.now(dt.UTC)
        person_now = new_person_id()
        await repository.add_person(session, person_now, now)
        await repository.move(session, [key], person_now, now, verified=False)
        await announce(session, linking.outbox, [(key, stored.village_code)], person_id=person_now,
                       reason=LinkReason.VERIFIED, at=now)
    decided = {c["person_id"] for c in review["candidates"] if c["decision"]} | {person_id}
    closes = decided >= {c["person_id"] for c in review["candidates"]}
    await _decide(session, actor, review, person_id, REJECTED, closes=closes)
    return person_now


async def surviving(session: AsyncSession, person_id: str) -> str:
    """The person a (possibly retired) person id stands for now, following merges."""
    seen = {person_id}
    while True:
        exists, into = await repository.person_exists(session, person_id)
        if not exists:
            raise NotFound("person_id", "no such person")
        if into is None or into in seen:
            return person_id
        seen.add(into)
        person_id = into


async def _in_scope(session: AsyncSession, actor: Actor, review_id: str) -> dict[str, Any]:
    review = await repository.review(session, review_id)
    if review is None or not actor.principal.covers_region(review["village_code"]):
        raise NotFound("review_id", "no review with this id in your scope")
    return review


async def _open_review(session: AsyncSession, actor: Actor, review_id: str,
                       person_id: str) -> tuple[dict[str, Any], RecordKey]:
    review = await _in_scope(session, actor, review_id)
    if review["status"] != OPEN:
        raise Conflict("review_id", f"the review is {review['status']}, no longer open")
    candidate = next((c for c in review["candidates"] if c["person_id"] == person_id), None)
    if candidate is None:
        raise NotFound("person_id", "not a candidate of this review")
    if candidate["decision"]:
        raise Conflict("person_id", f"this candidate was already {candidate['decision']}")
    return review, RecordKey(review["source_system"], review["source_record_id"])


async def _decide(session: AsyncSession, actor: Actor, review: dict[str, Any], person_id: str, decision: str, *,
                  closes: bool) -> None:
    candidates = [c | {"decision": decision} if c["person_id"] == person_id else c for c in review["candidates"]]
    values: dict[str, Any] = {"candidates": candidates}
    if closes:
        values |= {"status": decision, "resolved_at": dt.datetime.now(dt.UTC),
                   "resolved_by": actor.principal.subject}
    await repository.update_review(session, review["review_id"], **values)
    await actor.audit(session, "accept" if decision == ACCEPTED else "reject", "review", review["review_id"])
