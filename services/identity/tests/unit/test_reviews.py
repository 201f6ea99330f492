"""Reviews against the fake: reasons shown in scope, accept and reject decide for good, every read audited."""

from __future__ import annotations

import pytest

from identity.domain.commands import AcceptCandidate, LinkRecords, ListReviews, ReadReview, RecordSeen, RejectCandidate
from identity.service_layer.fake import FakeIdentityUnitOfWork
from identity.service_layer.handlers.linking import link_records
from identity.service_layer.handlers.reviews import accept_candidate, list_reviews, read_review, reject_candidate
from simpul_contracts.events import ReviewRequestedV1
from simpul_platform.errors import DomainError, ErrorKind
from simpul_platform.unit_of_work import execute

from .conftest import ELSEWHERE, OFFICER, SITI, SITI_UNSURE, person_of, seen


async def _link(uow: FakeIdentityUnitOfWork, *records: RecordSeen) -> None:
    await execute(uow, link_records, LinkRecords(records))


async def _unsure_pair(uow: FakeIdentityUnitOfWork) -> tuple[str, str, str]:
    """(review id, Siti's person, the unsure record's person)."""
    await _link(uow, seen("r-1", **SITI), seen("r-2", **SITI_UNSURE))
    [review] = uow.store.reviews.values()
    return review.review_id, await person_of(uow, "r-1"), await person_of(uow, "r-2")


async def test_a_review_shows_reasons_in_scope_and_is_audited(asking_uow: FakeIdentityUnitOfWork) -> None:
    uow = asking_uow
    review_id, siti, _ = await _unsure_pair(uow)
    view = await execute(uow, read_review, ReadReview(OFFICER, review_id))
    [candidate] = view.review.candidates
    assert candidate.person_id == siti
    assert {c.field for c in candidate.contributions} >= {"name", "birth"}
    assert view.record is not None
    assert view.record.record.details is not None
    assert [r.record.key.source_record_id for r in view.candidate_records[siti]] == ["r-1"]
    assert [(a.action, a.resource_ids, a.subject) for a in uow.audited] == [("read", (review_id,), "officer-jember")]


async def test_outside_the_scope_a_review_does_not_exist_and_is_not_audited(
        asking_uow: FakeIdentityUnitOfWork) -> None:
    uow = asking_uow
    review_id, _siti, _ = await _unsure_pair(uow)
    with pytest.raises(DomainError) as refused:
        await execute(uow, read_review, ReadReview(ELSEWHERE, review_id))
    assert (refused.value.kind, refused.value.field) == (ErrorKind.NOT_FOUND, "review_id")
    assert await execute(uow, list_reviews, ListReviews(ELSEWHERE, "open", None, 10)) == []
    assert uow.audited == []


async def test_accepting_links_for_good_and_cannot_be_repeated(asking_uow: FakeIdentityUnitOfWork) -> None:
    uow = asking_uow
    review_id, siti, _ = await _unsure_pair(uow)
    assert await execute(uow, accept_candidate, AcceptCandidate(OFFICER, review_id, siti)) == siti
    assert await person_of(uow, "r-2") == siti
    assert uow.store.reviews[review_id].status == "accepted"
    assert (uow.published[-1].person_id, uow.published[-1].reason) == (siti, "verified")
    with pytest.raises(DomainError) as again:
        await execute(uow, accept_candidate, AcceptCandidate(OFFICER, review_id, siti))
    assert (again.value.kind, again.value.field, again.value.reason) == (
        ErrorKind.CONFLICT, "review_id", "the review is accepted, no longer open")
    await _link(uow, seen("r-2", **SITI_UNSURE | {"full_name": "Bambang"}))  # a verified link never moves
    assert await person_of(uow, "r-2") == siti


async def test_a_rejected_candidate_is_never_matched_again(asking_uow: FakeIdentityUnitOfWork) -> None:
    uow = asking_uow
    review_id, siti, own = await _unsure_pair(uow)
    assert await execute(uow, reject_candidate, RejectCandidate(OFFICER, review_id, siti)) == own
    assert uow.store.reviews[review_id].status == "rejected"
    await _link(uow, seen("r-2", **SITI_UNSURE | {"kk_number": "3509110101120003"}))
    assert await person_of(uow, "r-2") == own
    assert sum(isinstance(e, ReviewRequestedV1) for e in uow.published) == 1
    assert [d.kind for d in uow.store.decisions] == ["verified_non_link"]


async def test_a_candidate_not_asked_about_is_not_found(asking_uow: FakeIdentityUnitOfWork) -> None:
    uow = asking_uow
    review_id, _, _ = await _unsure_pair(uow)
    with pytest.raises(DomainError) as refused:
        await execute(uow, accept_candidate, AcceptCandidate(OFFICER, review_id, "per_nobody"))
    assert (refused.value.kind, refused.value.field) == (ErrorKind.NOT_FOUND, "person_id")
