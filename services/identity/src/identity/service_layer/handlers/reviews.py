"""The review queue: reviewers see unsure matches in their districts, with why each scored as it did, and decide.

Accepting a candidate is a verified link: the record joins that person, and it and the person's records are
marked as placed by a reviewer, so automatic matching never moves them again. Rejecting a candidate is a verified
non-link between the record and every record the person holds: neither is ever matched to the other's person
again, whichever arrives next. Every read and decision is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from identity.adapters.contract_mapping import to_wire
from identity.domain.commands import AcceptCandidate, Actor, ListReviews, ReadReview, RejectCandidate
from identity.domain.decisions import Decision, DecisionKind
from identity.domain.errors import Conflict, NotFound
from identity.domain.events import LinkReason, RecordLinked
from identity.domain.person import Person
from identity.domain.review import Review
from identity.domain.source_records import SourceRecord
from identity.service_layer.handlers.linking import new_person_id
from identity.service_layer.unit_of_work import IdentityUnitOfWork
from simpul_platform.unit_of_work import Access


@dataclass(frozen=True)
class RecordView:
    """A record as a reviewer sees it: details only when its village is in the reviewer's scope."""

    record: SourceRecord
    shown: bool


@dataclass(frozen=True)
class ReviewView:
    """A review with the record under review and the records each candidate person holds now."""

    review: Review
    record: RecordView | None
    candidate_records: dict[str, list[RecordView]]


def access(actor: Actor, action: str, resource: str, resource_id: str) -> Access:
    """The audit entry of the actor's action on one resource."""
    return Access(actor.subject, actor.role, action, resource, (resource_id,), actor.reason)


async def list_reviews(command: ListReviews, uow: IdentityUnitOfWork) -> list[Review]:
    """Reviews of records in the caller's villages or districts (each listing audited)."""
    actor = command.actor
    found = await uow.reviews.in_scope(actor.scope, status=command.status, after=command.after, limit=command.limit)
    for review in found:
        uow.audit(access(actor, "list", "review", review.review_id))
    return found


async def read_review(command: ReadReview, uow: IdentityUnitOfWork) -> ReviewView:
    """One review in scope, with the records behind it (audited)."""
    actor = command.actor
    review = await _in_scope(uow, actor, command.review_id)
    record = await uow.records.get(review.key)
    candidates = {}
    for candidate in review.candidates:
        person = await uow.persons.get(candidate.person_id)
        candidates[candidate.person_id] = [RecordView(r, actor.covers(r.village_code))
                                           for r in (person.records if person else [])]
    uow.audit(access(actor, "read", "review", review.review_id))
    return ReviewView(review, RecordView(record, True) if record else None, candidates)


async def accept_candidate(command: AcceptCandidate, uow: IdentityUnitOfWork) -> str:
    """Verified link: the record under review is the candidate person; returns the person it is linked to now."""
    review = await _in_scope(uow, command.actor, command.review_id)
    review.candidate_to_decide(command.person_id)
    target = await surviving(uow, command.person_id)
    if await uow.decisions.separated([review.key], target.keys):
        raise Conflict("person_id", "a reviewer decided this record is another child than this person")
    record = await _record_under(uow, review)
    now = dt.datetime.now(dt.UTC)
    target.link_verified(record, now)
    await uow.decisions.add(Decision.by(command.actor, DecisionKind.VERIFIED_LINK, target.person_id, now,
                                        record=review.key, review_id=review.review_id))
    await uow.persons.save(target)
    if record.person_id != target.person_id:
        uow.publish(to_wire(RecordLinked(review.key, target.person_id, record.village_code, LinkReason.VERIFIED,
                                         now)))
    review.accept(command.person_id, command.actor.subject, now)
    await _decided(uow, command.actor, review, "accept")
    return target.person_id


async def reject_candidate(command: RejectCandidate, uow: IdentityUnitOfWork) -> str:
    """Verified non-link: the record under review is another child than the candidate; returns its person now."""
    review = await _in_scope(uow, command.actor, command.review_id)
    review.candidate_to_decide(command.person_id)
    target = await surviving(uow, command.person_id)
    others = [key for key in target.keys if key != review.key]
    now = dt.datetime.now(dt.UTC)
    decision = await uow.decisions.add(Decision.by(command.actor, DecisionKind.VERIFIED_NON_LINK, target.person_id,
                                                   now, record=review.key, review_id=review.review_id))
    await uow.decisions.add_non_links([review.key], others, decision)
    record = await _record_under(uow, review)
    person_now = record.person_id
    if person_now == target.person_id and others:  # linked there since the review was asked: split it off
        split = Person(new_person_id(), now)
        split.receive(record, now)
        await uow.persons.add(split)
        person_now = split.person_id
        uow.publish(to_wire(RecordLinked(review.key, person_now, record.village_code, LinkReason.VERIFIED, now)))
    review.reject(command.person_id, command.actor.subject, now)
    await _decided(uow, command.actor, review, "reject")
    return person_now


async def surviving(uow: IdentityUnitOfWork, person_id: str) -> Person:
    """The person a (possibly retired) person id stands for now, following merges."""
    seen = {person_id}
    while True:
        person = await uow.persons.get(person_id)
        if person is None:
            raise NotFound("person_id", "no such person")
        if person.retired_into is None or person.retired_into in seen:
            return person
        seen.add(person.retired_into)
        person_id = person.retired_into


async def _in_scope(uow: IdentityUnitOfWork, actor: Actor, review_id: str) -> Review:
    review = await uow.reviews.get(review_id)
    if review is None or not actor.covers(review.village_code):
        raise NotFound("review_id", "no review with this id in your scope")
    return review


async def _record_under(uow: IdentityUnitOfWork, review: Review) -> SourceRecord:
    record = await uow.records.get(review.key)
    assert record is not None, "a review is only asked about a stored record"
    return record


async def _decided(uow: IdentityUnitOfWork, actor: Actor, review: Review, action: str) -> None:
    await uow.reviews.save(review)
    uow.audit(access(actor, action, "review", review.review_id))
