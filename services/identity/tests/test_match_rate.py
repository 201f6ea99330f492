"""The prior is the data's (issue 9, live against batch): the chance that two records are one child falls with the
number of records, so a model estimated from 46,000 records holds it 20 times too low for 2,000. Wherever the model
is used, the real-time index and batch dedupe count the data's own match rate over the same records, from the pairs
sharing a child's own NIK, and decide a pair alike; the stored prior stands only until enough pairs tell."""

from __future__ import annotations

import itertools

import pytest

from identity.domain.clustering import LINKED, NEW
from identity.domain.index import PersonIndex
from identity.domain.model import MIN_RATE_PAIRS, MatchModel, pair_match_rate
from identity.domain.records import Record, parse_record
from identity.service_layer.dedupe import dedupe_records

KESILIR = "3509112007"
GIVEN = ("Bambang", "Joko", "Agus", "Hendra", "Wahyu", "Yusuf", "Eko", "Slamet")
FAMILY = ("Santoso", "Wibowo", "Kusuma", "Hartono", "Gunawan", "Setiawan")
# The same boy written twice (the birth date differs, the mother's name the same): the shipped model's own prior
# leaves him two persons, the match rate of a small district's records makes him one.
FIRMAN = ({"full_name": "Ahmad Firman", "birth_date": "2014-12-30", "mother_name": "Juwariyah"},
          {"full_name": "AHMAD FIRMAN", "birth_date": "2013-11-25", "mother_name": "NY. JUWARIYAH"})


def _record(record_id: str, **fields: str) -> Record:
    return parse_record({"record_id": record_id, "sex": "male", "village_code": KESILIR} | fields)


def _district(children: int) -> list[Record]:
    """`children` boys, each written twice with his own NIK (born in May 2012, one serial each)."""
    records = []
    for number, (given, family) in enumerate(itertools.islice(itertools.product(GIVEN, FAMILY), children), 1):
        day = number % 28 + 1
        fields = {"full_name": f"{given} {family}", "birth_date": f"2012-05-{day:02d}",
                  "nik": f"350911{day:02d}0512{number:04d}"}
        records += [_record(f"{number}a", **fields), _record(f"{number}b", **fields | {"full_name": family})]
    return records


def test_the_match_rate_is_counted_from_pairs_sharing_a_nik_and_falls_with_the_records() -> None:
    assert pair_match_rate(MIN_RATE_PAIRS - 1, 1000, 2000) is None
    small, large = pair_match_rate(100, 1000, 2000), pair_match_rate(200, 2000, 4000)
    assert small == pytest.approx(100 / 0.5**2 / (2000 * 1999 / 2))
    assert large is not None
    assert large == pytest.approx(small / 2, rel=0.01)  # twice the records, twice the pairs


def test_the_index_and_batch_dedupe_count_the_same_match_rate_over_the_same_records() -> None:
    records = _district(40)
    index = PersonIndex(MatchModel.default())
    for record in records:
        index.add(record, record.record_id)
    batch = dedupe_records(records, model=MatchModel.default())
    assert batch.match_rate is not None
    assert batch.match_rate > 10 * MatchModel.default().prior
    assert index.match_rate() == pytest.approx(batch.match_rate)


def test_too_few_pairs_sharing_a_nik_leave_the_models_prior() -> None:
    index = PersonIndex(MatchModel.default())
    for record in _district(MIN_RATE_PAIRS - 1):
        index.add(record, record.record_id)
    assert index.match_rate() is None
    assert dedupe_records(_district(MIN_RATE_PAIRS - 1), model=MatchModel.default()).match_rate is None


@pytest.mark.parametrize("children", [0, 40])
def test_the_same_pair_is_decided_alike_live_and_in_batch_under_the_datas_rate(children: int) -> None:
    first, second = _record("firman-1", **FIRMAN[0]), _record("firman-2", **FIRMAN[1])
    records = [*_district(children), first]
    index = PersonIndex(MatchModel.default())
    for record in records:
        index.add(record, record.record_id)
    decision, person = index.decide(index.candidates(second))
    batch = dedupe_records([*records, second], model=MatchModel.default())
    one_person = batch.person_of["firman-1"] == batch.person_of["firman-2"]
    assert (decision, person, one_person) == ((LINKED, "firman-1", True) if children else (NEW, None, False))


def test_different_children_stay_apart_under_a_high_match_rate() -> None:
    index = PersonIndex(MatchModel.default())
    for record in _district(40):
        index.add(record, record.record_id)
    rate = index.match_rate()
    assert rate is not None
    assert rate > 0.01  # every record of this district has another of its child
    index.add(_record("rahmat", full_name="Rahmat Hidayat", birth_date="2013-07-07"), "rahmat")
    index.add(_record("budi", full_name="Budi Hidayat Novi", birth_date="2017-10-16"), "budi")
    zainal = index.candidates(_record("zainal", full_name="Zainal Abidin", birth_date="2013-07-07"))
    assert index.decide(zainal)[0] == NEW  # alike in sex, village and birth date only: not even a review
    assert all(c.probability < index.model.review for c in zainal if c.person_id == "rahmat")
    novi = index.candidates(_record("novi", full_name="Novi Hidayat Budi", birth_date="2010-03-16"))
    assert index.decide(novi)[0] != LINKED  # the name reordered, born seven years apart: a reviewer decides
