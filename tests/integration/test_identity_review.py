"""Identity's review API on the real broker and PostgreSQL: unsure matches queue for review with each field's
contribution, accept and reject decide them for good, merges undo cleanly, and the queue is scoped by district."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select

from identity.adapters.orm import audit_log, decisions, reviews
from simpul_contracts.events import (
    ChildIdentityRecordedV1,
    PersonsMergedV1,
    PersonUnmergedV1,
    RecordLinkedV1,
    ReviewRequestedV1,
)
from simpul_platform.auth import Role
from tests.integration.test_identity_linking import (
    BAMBANG,
    SITI,
    SITI_UNSURE,
    SITI_WITH_MOTHER,
    applied,
    assert_nothing_identifying,
    child,
    identity,
    identity_events,
    person_of,
)
from tests.support.database import scalar
from tests.support.stack import eventually, token
from tests.support.topics import publish_event, published_types

JEMBER = "35.09"
OFFICER = token(Role.DISTRICT_OFFICER, JEMBER, subject="officer-jember") | {"X-Access-Reason": "monthly review"}
ELSEWHERE = token(Role.DISTRICT_OFFICER, "35.10", subject="officer-banyuwangi")
MINISTRY = token(Role.MINISTRY)
CADRE = token(Role.CADRE, "35.09.11.2007")


async def _open_review(client: httpx.AsyncClient) -> dict[str, Any]:
    async def queued() -> list[dict[str, Any]] | None:
        response = await client.get("/reviews", headers=OFFICER)
        assert response.status_code == 200, response.text
        return response.json()["items"] or None

    items = await eventually(queued)
    assert len(items) == 1
    return items[0]


async def _unsure_pair(client: httpx.AsyncClient, url: str, bootstrap: str, namespace: str,
                       *records: ChildIdentityRecordedV1) -> tuple[dict[str, Any], str, str]:
    """Siti, then a record unsure to be her: (the review queued, Siti's person, the second record's person)."""
    first, second = records or (child("r-1", **SITI_WITH_MOTHER), child("r-2", **SITI_UNSURE))
    await publish_event(bootstrap, namespace, first)
    await applied(url, 1)
    await publish_event(bootstrap, namespace, second)
    queued = await _open_review(client)
    return queued, await person_of(url, first.source_record_id), await person_of(url, second.source_record_id)


async def test_an_unsure_pair_is_reviewed_with_reasons_and_accepting_links_it(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("identity")
    siti, unsure = child("r-1", **SITI_WITH_MOTHER), child("r-2", **SITI_UNSURE)
    async with identity(url, kafka_bootstrap, namespace) as stack:
        client = stack.clients["identity"]
        queued, siti_person, own_person = await _unsure_pair(client, url, kafka_bootstrap, namespace, siti, unsure)
        assert own_person != siti_person  # an unsure match is not a link
        assert (queued["source_record_id"], queued["person_id"]) == ("r-2", own_person)
        assert [c["person_id"] for c in queued["candidates"]] == [siti_person]

        review = (await client.get(f"/reviews/{queued['review_id']}", headers=OFFICER)).json()
        candidate = review["candidates"][0]
        assert 0.9 <= candidate["score"] < 0.95  # the default review and auto-link thresholds
        fields = {c["field"]: c for c in candidate["contributions"]}
        assert fields["name"]["weight"] > 0
        assert fields["mother"]["weight"] < 0
        assert review["record"]["details"]["birth_date"] == "2014-02-03"
        assert candidate["records"][0]["source_record_id"] == "r-1"

        accepted = await client.post(f"/reviews/{queued['review_id']}/accept", json={"person_id": siti_person},
                                     headers=OFFICER)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["person_id"] == siti_person
        assert accepted.json()["review"]["status"] == "accepted"
        again = await client.post(f"/reviews/{queued['review_id']}/accept", json={"person_id": siti_person},
                                  headers=OFFICER)
        assert again.status_code == 409
        assert again.json()["errors"] == [{"field": "review_id", "reason": "the review is accepted, no longer open"}]

        # The verified link survives the record arriving again, changed: matching never moves it.
        await publish_event(kafka_bootstrap, namespace, child("r-2", **SITI_UNSURE | {"full_name": "Bambang"}))
        await applied(url, 3)

        async def links_of_r2() -> list[tuple[str, str]] | None:  # one record's links share a partition: in order
            found = [(link["person_id"], link["reason"]) for link in
                     await identity_events(kafka_bootstrap, namespace, RecordLinkedV1.event_type)
                     if link["source_record_id"] == "r-2"]
            return found if len(found) >= 2 else None

        links = await eventually(links_of_r2)
    assert links == [(own_person, "new_person"), (siti_person, "verified")]
    assert await person_of(url, "r-2") == siti_person
    requested = await identity_events(kafka_bootstrap, namespace, ReviewRequestedV1.event_type)
    assert [(r["source_record_id"], r["candidate_person_ids"]) for r in requested] == [("r-2", [siti_person])]
    assert await scalar(url, select(func.count()).select_from(audit_log).where(
        audit_log.c.action == "accept", audit_log.c.subject == "officer-jember",
        audit_log.c.reason == "monthly review")) == 1
    await assert_nothing_identifying(kafka_bootstrap, namespace, siti, unsure)


async def test_a_verified_non_link_survives_a_rematch(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("identity")
    async with identity(url, kafka_bootstrap, namespace) as stack:
        client = stack.clients["identity"]
        queued, siti_person, own_person = await _unsure_pair(client, url, kafka_bootstrap, namespace)
        rejected = await client.post(f"/reviews/{queued['review_id']}/reject", json={"person_id": siti_person},
                                     headers=OFFICER)
        assert rejected.status_code == 200, rejected.text
        assert (rejected.json()["person_id"], rejected.json()["review"]["status"]) == (own_person, "rejected")

        # Both records arrive again with changed details (still an unsure pair): they are matched again, and the
        # reviewer's decision holds: no link, no new review.
        await publish_event(kafka_bootstrap, namespace, child("r-2", **SITI_UNSURE | {"kk_number": "3509110101120003"}))
        await publish_event(kafka_bootstrap, namespace, child("r-1", **SITI | {"mother_name": "Sulastri"}))
        # A third record like the first joins it, with no review: a sure link leaves nothing to ask.
        await publish_event(kafka_bootstrap, namespace, child("r-3", **SITI | {"mother_name": "Sulastri"}))
        await applied(url, 5)
        sent = await published_types(url, kafka_bootstrap, namespace, ReviewRequestedV1.topic)
        assert sent.count(ReviewRequestedV1.event_type) == 1
    assert await person_of(url, "r-2") == own_person
    assert await person_of(url, "r-1") == siti_person == await person_of(url, "r-3")
    assert await scalar(url, select(func.count()).select_from(reviews).where(reviews.c.status == "open")) == 0
    assert await scalar(url, select(func.count()).select_from(decisions).where(
        decisions.c.kind == "verified_non_link")) == 1


async def test_merge_then_unmerge_restores_the_earlier_links(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("identity")
    async with identity(url, kafka_bootstrap, namespace) as stack:
        client = stack.clients["identity"]
        for number, record in enumerate((child("r-1", **SITI), child("r-2", **SITI), child("r-3", **BAMBANG)), 1):
            await publish_event(kafka_bootstrap, namespace, record)
            await applied(url, number)
        siti, bambang = await person_of(url, "r-1"), await person_of(url, "r-3")
        assert await person_of(url, "r-2") == siti

        merged = await client.post(f"/persons/{bambang}/merge", json={"into_person_id": siti}, headers=OFFICER)
        assert merged.status_code == 200, merged.text
        assert merged.json()["moved_records"] == ["simpul-registry:r-3"]
        assert await person_of(url, "r-3") == siti
        refused = await client.post(f"/persons/{bambang}/merge", json={"into_person_id": siti}, headers=OFFICER)
        assert refused.status_code == 409
        assert refused.json()["errors"][0]["field"] == "person_id"

        unmerged = await client.post(f"/persons/{bambang}/unmerge", headers=OFFICER)
        assert unmerged.status_code == 200, unmerged.text
        assert [await person_of(url, r) for r in ("r-1", "r-2", "r-3")] == [siti, siti, bambang]

        # Unmerged persons are never merged again by matching: r-3 comes back looking like Siti.
        await publish_event(kafka_bootstrap, namespace, child("r-3", **SITI | {"mother_name": "Sulastri"}))
        await applied(url, 4)
        assert await person_of(url, "r-3") == bambang

        async def announced() -> list[list[dict[str, Any]]] | None:
            found = [await identity_events(kafka_bootstrap, namespace, t) for t in
                     (PersonsMergedV1.event_type, PersonUnmergedV1.event_type, RecordLinkedV1.event_type)]
            return found if len(found[2]) >= 5 and all(found) else None  # 3 new persons, merge and unmerge

        merges, unmerges, all_links = await eventually(announced)
    merge_id = merged.json()["merge_id"]
    assert merges == [{"merge_id": merge_id, "surviving_person_id": siti, "retired_person_id": bambang,
                       "moved_records": ["simpul-registry:r-3"], "merged_by": "officer-jember",
                       "merged_at": merges[0]["merged_at"]}]
    assert (unmerges[0]["merge_id"], unmerges[0]["person_id"], unmerges[0]["unmerged_from_person_id"],
            unmerges[0]["moved_records"]) == (merge_id, bambang, siti, ["simpul-registry:r-3"])
    links = [(link["person_id"], link["reason"]) for link in all_links if link["source_record_id"] == "r-3"]
    assert links == [(bambang, "new_person"), (siti, "verified"), (bambang, "verified")]
    assert await scalar(url, select(func.count()).select_from(audit_log).where(
        audit_log.c.action.in_(("merge", "unmerge")))) == 2


async def test_the_queue_is_scoped_by_district_and_closed_to_other_roles(
    make_database: Callable[..., str], kafka_bootstrap: str, namespace: str
) -> None:
    url = make_database("identity")
    async with identity(url, kafka_bootstrap, namespace) as stack:
        client = stack.clients["identity"]
        queued, siti, _ = await _unsure_pair(client, url, kafka_bootstrap, namespace)
        path = f"/reviews/{queued['review_id']}"

        assert (await client.get("/reviews", headers=ELSEWHERE)).json()["items"] == []
        hidden = await client.get(path, headers=ELSEWHERE)
        assert hidden.status_code == 404
        assert hidden.headers["content-type"] == "application/problem+json"
        assert hidden.json()["errors"] == [{"field": "review_id", "reason": "no review with this id in your scope"}]
        elsewhere = ELSEWHERE | {"X-Access-Reason": "curious"}
        assert (await client.post(f"{path}/accept", json={"person_id": siti}, headers=elsewhere)).status_code == 404
        for outsider in (MINISTRY, CADRE):
            assert (await client.get("/reviews", headers=outsider)).status_code == 403
            assert (await client.get(path, headers=outsider)).status_code == 403
        assert (await client.get("/reviews")).status_code == 401

        no_reason = await client.post(f"{path}/reject", json={"person_id": siti},
                                      headers={"Authorization": OFFICER["Authorization"]})
        assert no_reason.status_code == 422
        assert no_reason.json()["errors"] == [{"field": "X-Access-Reason", "reason": "is required for a decision"}]
        not_a_candidate = await client.post(f"{path}/accept", json={"person_id": "per_nobody"}, headers=OFFICER)
        assert not_a_candidate.status_code == 404
        assert not_a_candidate.json()["errors"][0]["field"] == "person_id"
        unknown_field = await client.post(f"{path}/accept", json={"person": siti}, headers=OFFICER)
        assert unknown_field.status_code == 422
    # Every read by a reviewer in scope was audited; refused reads were not reads.
    assert await scalar(url, select(func.count()).select_from(audit_log).where(
        audit_log.c.subject == "officer-banyuwangi")) == 0
    assert await scalar(url, select(func.count()).select_from(audit_log).where(
        audit_log.c.subject == "officer-jember", audit_log.c.action == "list")) >= 1
