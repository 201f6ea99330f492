"""Issue 9's matching rules, on both paths the service has: the real-time `PersonIndex` with the model the service
uses when no model path is configured (`MatchModel.default()`), and batch dedupe.

Disagreement is evidence, demographics alone never link, and certain pairs (one fitting NIK, or agreement on
everything) are joined whatever else their groups hold.
"""

from __future__ import annotations

import numpy as np
import pytest

from identity.domain.clustering import LINKED, NEW
from identity.domain.comparisons import (
    FIELDS,
    IDENTIFYING_EVIDENCE,
    NO_EVIDENCE,
    PARTIAL_EVIDENCE,
    Pairs,
    compare,
    evidence,
    fitting_nik,
)
from identity.domain.index import PersonIndex
from identity.domain.model import MatchModel, probability
from identity.domain.records import Record, parse_record
from identity.domain.table import RecordTable
from identity.service_layer.dedupe import dedupe_records

KESILIR = "3509112007"
DIFFERENT_CHILDREN = [
    (("Rahmat Hidayat", "2013-07-07"), ("Zainal Abidin", "2013-07-07"), "male"),
    (("Ayu Hidayat Maya", "2014-06-22"), ("Putri Maulana Agus", "2014-06-22"), "female"),
    (("Budi Hidayat Novi", "2017-10-16"), ("Novi Hidayat Budi", "2010-03-16"), "male"),
]


def _child(record_id: str, name: str, birth: str, sex: str, **fields: str) -> Record:
    return parse_record(
        {"record_id": record_id, "full_name": name, "birth_date": birth, "sex": sex, "village_code": KESILIR} | fields
    )


def _pair_evidence(a: Record, b: Record) -> int:
    table = RecordTable.of([a, b])
    pairs = Pairs(table, np.array([0]), table, np.array([1]))
    return int(evidence(compare(pairs), fitting_nik(pairs))[0])


def test_the_shipped_default_model_is_named_and_in_force_without_a_path() -> None:
    model = MatchModel.default()
    identity = model.identity()
    assert identity.name == "simpul-default"
    assert identity.version
    assert len(identity.checksum) == 16
    assert MatchModel.from_json(model.to_json()).identity() == identity
    assert MatchModel.hand_set().identity().checksum != identity.checksum


@pytest.mark.parametrize(("first", "second", "sex"), DIFFERENT_CHILDREN)
def test_different_children_are_never_linked_in_real_time(
    first: tuple[str, str], second: tuple[str, str], sex: str
) -> None:
    index = PersonIndex(MatchModel.default())
    index.add(_child("a", *first, sex), "person-a")
    candidates = index.candidates(_child("b", *second, sex))
    decision, _person = index.decide(candidates)
    assert decision == NEW
    assert all(candidate.probability < index.model.review for candidate in candidates)


@pytest.mark.parametrize(("first", "second", "sex"), DIFFERENT_CHILDREN)
def test_different_children_are_never_linked_in_batch(
    first: tuple[str, str], second: tuple[str, str], sex: str
) -> None:
    records = [_child("a", *first, sex), _child("b", *second, sex)]
    for model in (None, MatchModel.default()):
        result = dedupe_records(records, model=model)
        assert result.person_of["a"] != result.person_of["b"]
        assert set(result.decision_of.values()) == {NEW}


def test_demographics_alone_never_reach_auto_link_or_review_whatever_the_weights() -> None:
    a, b = _child("a", "Rahmat Hidayat", "2013-07-07", "male"), _child("b", "Zainal Abidin", "2013-07-07", "male")
    assert _pair_evidence(a, b) == NO_EVIDENCE
    table = RecordTable.of([a, b])
    levels = compare(Pairs(table, np.array([0]), table, np.array([1])))
    generous = MatchModel.hand_set()
    generous.u = [np.where(np.arange(len(u)) > 0, 1e-6, 0.0) for u in generous.u]  # every agreement is huge
    generous.m = [np.where(np.arange(len(m)) > 0, 1.0, 0.0) for m in generous.m]
    for check in (NO_EVIDENCE, PARTIAL_EVIDENCE):
        chance = float(probability(generous.scores(levels, np.array([check], dtype=np.int8)))[0])
        assert chance < (generous.review if check == NO_EVIDENCE else generous.auto_link)


def test_auto_link_needs_the_names_or_a_nik_that_fits_the_record() -> None:
    same_name = _child("a", "Rahmat Hidayat", "2013-07-07", "male"), _child("b", "RACHMAT HIDAYAT", "2013-07-07", "m")
    assert _pair_evidence(*same_name) == IDENTIFYING_EVIDENCE
    nik = "3509110707130001"  # male, born 2013-07-07
    fits = _child("a", "Lalu", "2013-07-07", "male", nik=nik), _child("b", "Budi", "", "male", nik=nik)
    assert _pair_evidence(*fits) == IDENTIFYING_EVIDENCE
    misfit = _child("a", "Adi", "2013-07-07", "female", nik=nik), _child("b", "Rian", "2013-07-07", "male", nik=nik)
    assert _pair_evidence(*misfit) < IDENTIFYING_EVIDENCE  # the NIK says a boy: it is not the girl's


def test_birth_dates_years_apart_weigh_strongly_against() -> None:
    model = MatchModel.default()
    birth = [f.name for f in FIELDS].index("birth")
    far, different = (FIELDS[birth].levels.index(name) for name in ("far", "different"))
    weights = model.level_weights()[birth]
    assert weights[far] < weights[different] < 0
    assert weights[far] < -8


MARNI = {"sex": "female", "birth_date": "2015-04-27", "village_code": "5203012001"}


def test_a_certain_pair_is_joined_and_the_record_with_a_second_nik_is_left_out() -> None:
    records = [
        parse_record({"record_id": "nik", "full_name": "MARNI", "mother_name": "Suparmi",
                      "nik": "5203016704154562"} | MARNI),
        parse_record({"record_id": "no-nik", "full_name": "Marni", "mother_name": "SUPARMI"} | MARNI),
        parse_record({"record_id": "other", "full_name": "Marni", "nik": "5203196704150003"} | MARNI),
    ]  # fmt: skip
    result = dedupe_records(records)
    assert result.person_of["nik"] == result.person_of["no-nik"]
    assert result.decision_of["nik"] == result.decision_of["no-nik"] == LINKED
    assert result.person_of["other"] != result.person_of["nik"]


ZUHRIAH = {"sex": "female", "birth_date": "2017-09-04", "village_code": "5203202006", "mother_name": "Rumenah",
           "nik": "5203204409170002"}  # fmt: skip


def test_one_fitting_nik_joins_records_that_a_sibling_would_otherwise_keep_apart() -> None:
    records = [
        parse_record({"record_id": "full", "full_name": "ZUHRIAH SAPUTRA"} | ZUHRIAH),
        parse_record({"record_id": "short", "full_name": "SAPUTRA"} | ZUHRIAH),
        # a sister: same mother and village, another name and birth date, no NIK
        parse_record({"record_id": "sister", "full_name": "Saputri Zuhriah", "birth_date": "2012-01-15"}
                     | {k: v for k, v in ZUHRIAH.items() if k not in ("nik", "birth_date")}),
    ]  # fmt: skip
    result = dedupe_records(records)
    assert result.person_of["full"] == result.person_of["short"]
    assert result.person_of["sister"] != result.person_of["full"]
    index = PersonIndex(MatchModel.default())
    index.add(records[0], "person-full")
    index.add(records[2], "person-sister")
    found = {candidate.person_id: candidate for candidate in index.candidates(records[1])}
    assert found["person-full"].certain
    assert not found["person-full"].vetoed
    assert index.decide(list(found.values())) == (LINKED, "person-full")


def test_lalu_and_l_sari_with_one_nik_are_one_person() -> None:
    boy = {"sex": "male", "birth_date": "2017-06-23", "village_code": "5203202006", "nik": "5203202306170001"}
    records = [
        parse_record({"record_id": "lalu", "full_name": "Lalu"} | boy),
        parse_record({"record_id": "sari", "full_name": "L. Sari"} | boy),
        parse_record({"record_id": "lalu-sari", "full_name": "Lalu Sari", "nik": ""} | boy),
    ]
    result = dedupe_records(records)
    assert len({result.person_of[record.record_id] for record in records}) == 1
    index = PersonIndex(MatchModel.default())
    index.add(records[0], "person")
    assert index.decide(index.candidates(records[1])) == (LINKED, "person")
