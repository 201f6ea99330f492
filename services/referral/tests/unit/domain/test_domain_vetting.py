"""Vetting scored exactly as the KPAI checklist: legality per valid document, the criteria, the bands, expiry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from referral.domain.errors import Invalid
from referral.domain.vetting import (
    LegalDocument,
    LegalDocumentKind,
    Recommendation,
    Score,
    Vetting,
    YearsWithChildren,
    recommendation_for,
    rescore,
)

EXPIRES = dt.date(2026, 6, 1)  # the operating licence's expiry day in the conftest's documents
Build = Callable[..., Vetting]


@pytest.mark.parametrize(("total", "recommendation"), [
    (0, Recommendation.NOT_RECOMMENDED), (5, Recommendation.NOT_RECOMMENDED),
    (6, Recommendation.MAY_BE_RECOMMENDED), (8, Recommendation.MAY_BE_RECOMMENDED),
    (9, Recommendation.RECOMMENDED), (11, Recommendation.RECOMMENDED),
])
def test_every_boundary_of_the_recommendation(total: int, recommendation: Recommendation) -> None:
    assert recommendation_for(total) is recommendation


@pytest.mark.parametrize(("years", "total", "recommendation", "eligible"), [
    (YearsWithChildren.NONE, 5, Recommendation.NOT_RECOMMENDED, False),
    (YearsWithChildren.FROM_5_TO_10, 6, Recommendation.MAY_BE_RECOMMENDED, True),
])
def test_the_5_6_boundary_on_a_whole_vetting(vetting: Build, years: YearsWithChildren, total: int,
                                             recommendation: Recommendation, eligible: bool) -> None:
    score = vetting(documents=vetting().documents[:3], track_record=1, vision_and_mission=1, child_orientation=0,
                    years_with_children=years).score_on(dt.date(2026, 3, 1))
    assert (score.total, score.recommendation, score.eligible) == (total, recommendation, eligible)


@pytest.mark.parametrize(("orientation", "total", "recommendation"), [
    (1, 8, Recommendation.MAY_BE_RECOMMENDED), (2, 9, Recommendation.RECOMMENDED),
])
def test_the_8_9_boundary_on_a_whole_vetting(vetting: Build, orientation: int, total: int,
                                             recommendation: Recommendation) -> None:
    score = vetting(child_orientation=orientation).score_on(dt.date(2026, 3, 1))
    assert (score.total, score.recommendation) == (total, recommendation)


def test_the_full_score_is_11(vetting: Build) -> None:
    score = vetting(vision_and_mission=2, child_orientation=2,
                    years_with_children=YearsWithChildren.OVER_10).score_on(dt.date(2026, 3, 1))
    assert score == Score(4, 2, 2, 2, 1)
    assert score.total == 11


@pytest.mark.parametrize(("years", "points"), [(YearsWithChildren.NONE, 0), (YearsWithChildren.UNDER_5, 0),
                                               (YearsWithChildren.FROM_5_TO_10, 1), (YearsWithChildren.OVER_10, 1)])
def test_years_working_with_children_score_0_or_1(vetting: Build, years: YearsWithChildren, points: int) -> None:
    assert vetting(years_with_children=years).score_on(dt.date(2026, 3, 1)).years_with_children == points


def test_an_expiring_document_lowers_the_score_on_the_expiry_day(vetting: Build) -> None:
    checked = vetting()
    assert checked.score_on(EXPIRES - dt.timedelta(days=1)).legality == 4
    assert checked.score_on(EXPIRES).legality == 3
    assert checked.score_on(EXPIRES).total == 7


def test_a_document_counts_from_its_first_valid_day() -> None:
    document = LegalDocument(LegalDocumentKind.SKT, "SKT-1", dt.date(2026, 2, 1), dt.date(2027, 2, 1))
    assert [document.valid_on(day) for day in (dt.date(2026, 1, 31), dt.date(2026, 2, 1))] == [False, True]


def test_one_point_per_kind_of_document_however_many_copies(vetting: Build) -> None:
    renewed = (*vetting().documents, LegalDocument(LegalDocumentKind.OPERATING_LICENCE, "IZ-78", EXPIRES))
    checked = vetting(documents=renewed)
    assert checked.score_on(dt.date(2026, 3, 1)).legality == 4
    assert checked.score_on(EXPIRES).legality == 4  # the renewal takes over on the old licence's expiry day


def test_rescoring_tells_whether_the_day_changed_the_score(vetting: Build) -> None:
    checked = vetting()
    before = checked.score_on(EXPIRES - dt.timedelta(days=1))
    assert not rescore(checked, before, EXPIRES - dt.timedelta(days=1)).changed
    after = rescore(checked, before, EXPIRES)
    assert after.changed
    assert (after.previous.total, after.score.total) == (8, 7)


def test_the_next_day_to_rescore_is_the_next_expiry_or_start(vetting: Build) -> None:
    checked = vetting()
    assert checked.next_change_after(dt.date(2026, 3, 1)) == EXPIRES
    assert checked.next_change_after(EXPIRES) == dt.date(2027, 1, 1)
    assert checked.next_change_after(dt.date(2027, 1, 1)) is None


@pytest.mark.parametrize(("changes", "field"), [
    ({"track_record": 3}, "track_record"), ({"vision_and_mission": -1}, "vision_and_mission"),
    ({"child_orientation": 3}, "child_orientation"), ({"vetted_by": " "}, "vetted_by"),
    ({"vetted_at": dt.datetime(2026, 3, 1)}, "vetted_at"),
])
def test_a_vetting_out_of_the_checklist_is_refused(vetting: Build, changes: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as refused:
        vetting(**changes)
    assert refused.value.field == field


@pytest.mark.parametrize(("valid_from", "expires_on", "reference"), [
    (dt.date(2026, 1, 1), dt.date(2026, 1, 1), "X-1"), (dt.date(2026, 1, 1), None, " "),
])
def test_a_document_without_reference_or_expiring_before_it_starts_is_refused(
        valid_from: dt.date, expires_on: dt.date | None, reference: str) -> None:
    with pytest.raises(Invalid):
        LegalDocument(LegalDocumentKind.NPWP, reference, valid_from, expires_on)


def test_a_vetting_keeps_who_when_evidence_and_notes(vetting: Build) -> None:
    kept = vetting(evidence=("annual report 2025", "media review"), notes="strong school programme")
    assert (kept.vetted_by, kept.evidence, kept.notes) == ("officer-jember", ("annual report 2025", "media review"),
                                                           "strong school programme")


@given(kinds=st.sets(st.sampled_from(LegalDocumentKind)), track=st.integers(0, 2), vision=st.integers(0, 2),
       orientation=st.integers(0, 2), years=st.sampled_from(YearsWithChildren))
def test_every_combination_scores_as_the_checklist_adds_it_up(kinds: set[LegalDocumentKind], track: int,
                                                               vision: int, orientation: int,
                                                               years: YearsWithChildren) -> None:
    documents = tuple(LegalDocument(kind, f"{kind}-1", dt.date(2020, 1, 1)) for kind in kinds)
    score = Vetting("v", documents, track, vision, orientation, years, "officer",
                    dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).score_on(dt.date(2026, 3, 1))
    total = len(kinds) + track + vision + orientation + (years in {YearsWithChildren.FROM_5_TO_10,
                                                                   YearsWithChildren.OVER_10})
    assert score.total == total
    assert score.recommendation is (Recommendation.RECOMMENDED if total >= 9 else
                                    Recommendation.MAY_BE_RECOMMENDED if total >= 6 else
                                    Recommendation.NOT_RECOMMENDED)
    assert score.eligible is (total >= 6)
