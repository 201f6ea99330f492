"""The real-time index forgets a label's details (a record's superseded or erased version): nothing of them stays in
its columns, the label is never a candidate again, and the counts the match rate and token weights use are those of
an index that never held them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from identity.domain.index import PersonIndex
from identity.domain.model import MatchModel
from identity.domain.records import Record, parse_record
from identity.domain.table import RecordTable, Vocabulary

KESILIR = "3509112007"
SITI = {"full_name": "Siti Aminah", "sex": "female", "birth_date": "2014-03-02", "mother_name": "Sulastri",
        "nik": "3509114203140001", "kk_number": "3509110101090001"}
# 28 boys, each written twice with his own NIK (born in May 2012): enough pairs for the data's own match rate.
DISTRICT = [
    (f"boy-{number}{copy}", {"full_name": f"{given} {family}", "sex": "male", "birth_date": f"2012-05-{number:02d}",
                             "nik": f"350911{number:02d}05120{number:03d}"})
    for number, (given, family) in enumerate(itertools.product(
        ("Bambang", "Joko", "Agus", "Hendra", "Wahyu", "Yusuf", "Eko"), ("Santoso", "Wibowo", "Kusuma", "Hartono")), 1)
    for copy in "ab"
]


def _record(record_id: str, **fields: str) -> Record:
    return parse_record({"record_id": record_id, "village_code": KESILIR} | fields)


def _index(*records: tuple[str, dict[str, str]]) -> PersonIndex:
    index = PersonIndex(MatchModel.default())
    for label, fields in records:
        index.add(_record(label, **fields), label)
    return index


def _row(table: RecordTable, row: int) -> list[list[int]]:
    return [np.asarray(getattr(table, name)[row]).tolist() for name in RecordTable.__slots__
            if isinstance(getattr(table, name), np.ndarray)]


def test_a_forgotten_row_holds_only_missing_values_and_is_never_a_candidate() -> None:
    index = _index(("old", SITI), ("other", SITI | {"nik": "3509114203140002"}))
    assert {c.person_id for c in index.candidates(_record("probe", **SITI))} == {"old", "other"}
    index.forget("old")
    assert _row(index._table, 0) == _row(RecordTable(Vocabulary(), 1), 0)  # as a row never written
    assert _row(index._table, 1) != _row(RecordTable(Vocabulary(), 1), 0)
    assert [c.person_id for c in index.candidates(_record("probe", **SITI))] == ["other"]
    assert len(index) == 1


def test_forgetting_takes_back_the_nik_and_token_counts_as_if_the_row_had_never_been_added() -> None:
    siti_twice = [("siti-1", SITI), ("siti-2", SITI | {"full_name": "Siti Aminah Putri"})]
    index = _index(*DISTRICT, *siti_twice)
    never = _index(*DISTRICT, siti_twice[0])
    index.forget("siti-2")
    index.forget("boy-3a")
    never_boy = _index(*(record for record in DISTRICT if record[0] != "boy-3a"), siti_twice[0])
    assert (index._own_niks, index._same_nik_pairs) == (never_boy._own_niks, never_boy._same_nik_pairs)
    assert index.match_rate() is not None
    assert index.match_rate() == never_boy.match_rate()
    assert index._same_nik_pairs == never._same_nik_pairs - 1
    tokens = ["siti", "aminah", "putri", "agus", "santoso", "sulastri"]
    assert [_weight(index, t) for t in tokens] == [_weight(never_boy, t) for t in tokens]


def _weight(index: PersonIndex, token: str) -> float:
    """The bits of a token as a probe holding it would weigh them (interned, counted or not)."""
    vocabulary = index._table.vocabulary
    return float(vocabulary.weights(np.array([vocabulary.id_of(token)], dtype=np.int32))[0])


def test_every_row_of_a_label_is_forgotten_and_the_label_can_come_back() -> None:
    index = _index(("per-1", SITI), ("per-1", SITI | {"full_name": "Siti Aminah Putri"}), ("per-2", SITI))
    index.forget("per-1")
    assert [c.person_id for c in index.candidates(_record("probe", **SITI))] == ["per-2"]
    assert len(index) == 1
    index.add(_record("again", **SITI), "per-1")
    assert {c.person_id for c in index.candidates(_record("probe", **SITI))} == {"per-1", "per-2"}


def test_forgetting_an_unknown_label_changes_nothing() -> None:
    index = _index(*DISTRICT)
    probe = _record("probe", **DISTRICT[0][1])
    before = (len(index), index.match_rate(), index.candidates(probe), _row(index._table, 0))
    index.forget("nobody")
    assert (len(index), index.match_rate(), index.candidates(probe), _row(index._table, 0)) == before
    index.forget("boy-1a")
    index.forget("boy-1a")  # twice: the second time it is unknown
    assert (len(index), index.match_rate()) == (len(DISTRICT) - 1, _index(*DISTRICT[1:]).match_rate())


@pytest.mark.parametrize("loaded", [True, False])
def test_a_fold_drops_the_blocking_keys_of_forgotten_rows(loaded: bool) -> None:
    index = PersonIndex(MatchModel.default())
    records = [_record(label, **fields) for label, fields in DISTRICT]
    if loaded:  # into the sorted arrays, as a rebuild does
        index.add_many(records, [label for label, _ in DISTRICT])
    else:  # into the recent dict, as records arriving one by one do
        for record in records:
            index.add(record, record.record_id)
    index._blocks.fold()
    assert 0 in index._blocks._rows.tolist()
    index.forget("boy-1a")
    index.add(_record("late", **SITI), "late")  # something to fold
    index._blocks.fold()
    assert 0 not in index._blocks._rows.tolist()
    assert [c.person_id for c in index.candidates(records[0])][:1] == ["boy-1b"]
