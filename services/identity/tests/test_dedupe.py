"""Batch deduplication: spelling variants of one child link; twins, siblings and different NIKs never do."""

from __future__ import annotations

import numpy as np

from identity.domain.clustering import sibling_like
from identity.domain.comparisons import FIELD_INDEX, FIELDS, Pairs, compare
from identity.domain.model import MatchModel, estimate, probability
from identity.domain.records import Record, parse_record
from identity.domain.table import RecordTable
from identity.service_layer.dedupe import dedupe_records

HOUSEHOLD = {"mother_name": "Siti Aminah", "kk_number": "3509110101200001", "village_code": "3509112007"}


def _record(record_id: str, **fields: str) -> Record:
    return parse_record({"record_id": record_id, "sex": "male", "birth_date": "2014-03-02", **HOUSEHOLD, **fields})


def _levels(a: Record, b: Record) -> np.ndarray:
    table = RecordTable.of([a, b])
    return compare(Pairs(table, np.array([0]), table, np.array([1])))


def test_spelling_variants_of_one_child_are_one_person() -> None:
    result = dedupe_records(
        [
            _record("a", full_name="Muhammad Rizki Pratama", nik="3509110203140001"),
            _record("b", full_name="MOH. RIZKY PRATAMA", nik="3509110203140001", village_code="35.09.11.2007"),
            _record("c", full_name="Moehamad Rizki Pratama", birth_date="2014-02-03", mother_name="Ibu Siti Aminah"),
            _record(
                "d",
                full_name="Dewi Lestari",
                sex="female",
                birth_date="2011-07-09",
                nik="",
                kk_number="",
                mother_name="Sulastri",
                village_code="3509082005",
            ),
        ]
    )
    assert result.person_of["a"] == result.person_of["b"] == result.person_of["c"]
    assert result.person_of["d"] != result.person_of["a"]
    assert result.decision_of["a"] == "linked"
    assert result.decision_of["d"] == "new"


def test_twins_with_similar_names_are_not_merged() -> None:
    hasan, husain = _record("a", full_name="Hasan"), _record("b", full_name="Husain")
    levels = _levels(hasan, husain)
    assert sibling_like(levels).all()
    model = MatchModel.default()
    assert probability(model.match_weights(levels))[0] >= model.review  # the rule, not the score, keeps them apart
    result = dedupe_records([hasan, husain])
    assert result.person_of["a"] != result.person_of["b"]


def test_a_typo_in_a_long_token_is_the_same_name_but_twins_near_identical_names_are_not() -> None:
    name = FIELD_INDEX["name"]
    same = FIELDS[name].levels.index("same_common")
    typo = _levels(_record("a", full_name="Baiq Rumenah Febriani"), _record("b", full_name="Rumenah Febrianu"))
    assert typo[0, name] >= same
    assert not sibling_like(typo).any()
    for first, second in (("Nur Rani", "Nur Rina"), ("Rizki Pratama", "Rizka Pratama")):
        twins = _levels(_record("a", full_name=first), _record("b", full_name=second))
        assert twins[0, name] < same
        assert sibling_like(twins).all()


def test_siblings_with_different_birth_years_are_not_merged() -> None:
    older, younger = (
        _record("a", full_name="Nur Aini", birth_date="2012-05-01"),
        _record("b", full_name="Nur Aini", birth_date="2016-05-01"),
    )
    assert sibling_like(_levels(older, younger)).all()
    assert dedupe_records([older, younger]).person_of["a"] != dedupe_records([older, younger]).person_of["b"]


def test_two_different_own_niks_are_never_one_person() -> None:
    records = [
        _record("a", full_name="Ahmad Fauzi", nik="3509110203140001"),
        _record("b", full_name="Ahmad Fauzi", nik="3509110203149999"),
        _record("c", full_name="Ahmad Fauzi"),
    ]  # fits both: must not bridge them
    result = dedupe_records(records)
    assert result.person_of["a"] != result.person_of["b"]
    assert result.is_candidate("a", "b")


def test_a_nik_with_one_mistyped_digit_still_links() -> None:
    records = [
        _record("a", full_name="Ahmad Fauzi", nik="3509110203140001"),
        _record("b", full_name="Ahmad Fauzi", nik="3509110203140007"),
    ]
    level = FIELDS[FIELD_INDEX["nik"]].levels[_levels(*records)[0, FIELD_INDEX["nik"]]]
    assert level == "serial"  # region and date alike: the typo is in the serial
    result = dedupe_records(records)
    assert result.person_of["a"] == result.person_of["b"]


def test_niks_apart_in_a_date_each_record_confirms_are_two_children() -> None:
    records = [
        _record("a", full_name="Ahmad Fauzi", birth_date="2014-03-02", nik="3509110203140001"),
        _record("b", full_name="Ahmad Fauzi", birth_date="2014-03-04", nik="3509110403140001"),
    ]
    assert FIELDS[FIELD_INDEX["nik"]].levels[_levels(*records)[0, FIELD_INDEX["nik"]]] == "different"
    result = dedupe_records(records)
    assert result.person_of["a"] != result.person_of["b"]


def test_twins_on_one_family_card_stay_apart_without_the_mothers_name() -> None:
    records = [
        _record("a", full_name="Muhammad Rafa", birth_date="2018-11-20", kk_number="5203010606240026", mother_name=""),
        _record("b", full_name="Muhammad Rafi", birth_date="2018-11-20", kk_number="5203010606240026", mother_name=""),
    ]
    result = dedupe_records(records)
    assert result.person_of["a"] != result.person_of["b"]


def test_estimation_recovers_the_parameters_of_synthetic_pairs() -> None:
    rng = np.random.default_rng(7)
    truth = MatchModel.hand_set()
    matches, non_matches = 20_000, 180_000

    def draw(tables: list[np.ndarray], count: int) -> np.ndarray:
        return np.stack([rng.choice(len(table), size=count, p=table) for table in tables], axis=1).astype(np.int8)

    nik = FIELD_INDEX["nik"]
    m_true = [column.copy() for column in truth.m]
    m_true[FIELD_INDEX["name"]] = np.array([0, 0.01, 0.01, 0.03, 0.07, 0.03, 0.05, 0.10, 0.15, 0.30, 0.25])
    u_true = [column.copy() for column in truth.u]
    m_true[nik] = np.array([0.5, 0.0, 0.0, 0.0, 0.5])  # half the matches share an own NIK, the rest miss one
    u_true[nik] = np.array([0.5, 0.5, 0.0, 0.0, 0.0])  # half the non-matches hold two different NIKs
    candidates = np.concatenate([draw(m_true, matches), draw(u_true, non_matches)])
    conflicts = candidates[:, nik] == 1
    random_pairs = draw(u_true, 50_000)
    estimated = estimate(
        candidates, sure_matches=candidates[:, nik] == 4, sure_non_matches=conflicts, random_pairs=random_pairs
    )
    name = FIELD_INDEX["name"]
    assert np.allclose(estimated.m[name][1:], m_true[name][1:], atol=0.02)
    assert np.allclose(estimated.u[name][1:], u_true[name][1:] / u_true[name][1:].sum(), atol=0.02)
    assert abs(estimated.prior - matches / (matches + non_matches)) < 0.02
    restored = MatchModel.from_json(estimated.to_json())
    assert np.allclose(restored.m[name], estimated.m[name], atol=1e-6)


def test_pairs_compared_in_worker_processes_give_the_same_persons_and_scores(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import identity.service_layer.dedupe as dedupe  # noqa: PLC0415

    records = [
        _record("a", full_name="Muhammad Rizki Pratama", nik="3509110203140001"),
        _record("b", full_name="MOH. RIZKY PRATAMA", nik="3509110203140001"),
        _record("c", full_name="Moehamad Rizki Pratama", birth_date="2014-02-03"),
        _record("d", full_name="Hasan"),
        _record("e", full_name="Husain"),
        _record("f", full_name="Rizki Pratama", birth_date="2015-03-02"),
    ]
    in_this_process: list[int] = []
    original = dedupe.compare
    monkeypatch.setattr(dedupe, "CHUNK", 2)  # several chunks of pairs
    monkeypatch.setattr(dedupe, "compare", lambda pairs: in_this_process.append(len(pairs.left)) or original(pairs))
    alone = dedupe_records(records, workers=1)
    assert len(in_this_process) > 2
    in_this_process.clear()
    pooled = dedupe_records(records, workers=2)
    assert in_this_process == []  # every chunk was compared in a worker
    assert (pooled.person_of, pooled.score_of, pooled.decision_of) == (
        alone.person_of,
        alone.score_of,
        alone.decision_of,
    )
