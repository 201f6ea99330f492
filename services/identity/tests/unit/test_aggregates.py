"""Person and Review rules, without any store: two own NIKs never meet in one person, decisions are final."""

from __future__ import annotations

import datetime as dt

import pytest

from identity.domain.errors import Conflict, NotFound, Refused
from identity.domain.person import Person, refuse_merge_into_itself
from identity.domain.review import Review
from identity.domain.source_records import Candidate, Details, SourceRecord

from .conftest import NIK, SITI, key

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
OTHER_NIK = "3509114101120002"  # Wuluhan, 1 January 2012, female: Siti's sister's own
SISTER = {"full_name": "Siti Amini", "sex": "female", "birth_date": dt.date(2012, 1, 1), "birth_date_precision": "day",
          "mother_name": "Ratna", "village_code": SITI["village_code"]}


def _person(person_id: str, *records: tuple[str, dict[str, object]]) -> Person:
    return Person(person_id, NOW, [SourceRecord(key(rid), person_id, str(d["village_code"]), False,
                                                Details(**d), NOW) for rid, d in records])  # type: ignore[arg-type]


def test_a_record_with_another_own_nik_cannot_join_a_person() -> None:
    siti = _person("per_siti", ("r-1", SITI | {"nik": NIK}))
    sister = _person("per_sister", ("r-2", SISTER | {"nik": OTHER_NIK}))
    with pytest.raises(Conflict):
        siti.link_verified(sister.records[0], NOW)
    with pytest.raises(Conflict) as refused:
        sister.merge_into(siti, merge_id="mrg_1", by="officer", at=NOW)
    assert refused.value.field == "into_person_id"
    assert siti.keys == [key("r-1")]
    assert sister.retired_into is None


def test_a_record_without_a_nik_joins_and_everything_is_placed_by_the_reviewer() -> None:
    siti = _person("per_siti", ("r-1", SITI | {"nik": NIK}))
    unsure = _person("per_own", ("r-2", SISTER))
    siti.link_verified(unsure.records[0], NOW)
    assert siti.keys == [key("r-1"), key("r-2")]
    assert all(r.verified and r.person_id == "per_siti" for r in siti.records)


def test_unmerge_restores_what_the_merge_moved_and_marked() -> None:
    siti = _person("per_siti", ("r-1", SITI))
    other = _person("per_other", ("r-3", SISTER))
    merge = other.merge_into(siti, merge_id="mrg_1", by="officer", at=NOW)
    assert (siti.keys, other.keys, other.retired_into) == ([key("r-1"), key("r-3")], [], "per_siti")
    with pytest.raises(Conflict):
        other.merge_into(siti, merge_id="mrg_2", by="officer", at=NOW)
    back = other.unmerge_from(siti, merge, NOW)
    assert [r.key for r in back] == [key("r-3")]
    assert (siti.keys, other.keys, other.retired_into) == ([key("r-1")], [key("r-3")], None)
    assert not any(r.verified for r in (*siti.records, *other.records))


def test_a_person_cannot_be_merged_into_itself() -> None:
    with pytest.raises(Refused) as refused:
        refuse_merge_into_itself("per_a", "per_a")
    assert not isinstance(refused.value, Conflict | NotFound)


def test_a_decided_review_cannot_be_decided_again() -> None:
    review = Review.request("rev_1", key("r-2"), "per_own", village_code="35.09.11.2007",
                            candidates=[Candidate("per_a", 0.5, False, ()), Candidate("per_b", 0.4, False, ())], at=NOW)
    review.reject("per_a", "officer", NOW)
    assert review.status == "open"  # one candidate left to decide
    with pytest.raises(Conflict):
        review.reject("per_a", "officer", NOW)
    with pytest.raises(NotFound):
        review.accept("per_c", "officer", NOW)
    review.reject("per_b", "officer", NOW)
    assert (review.status, review.resolved_by) == ("rejected", "officer")
    with pytest.raises(Conflict) as closed:
        review.accept("per_b", "officer", NOW)
    assert closed.value.reason == "the review is rejected, no longer open"
