"""Vetting a provider, scored exactly as the KPAI partnership checklist says.

| criterion | score |
| legality: deed of establishment, operating licence, NPWP, SKT | 0-4, one per document valid that day |
| track record, vision and mission, child orientation | 0-2 each |
| years working with children (none / under 5 / 5-10 / over 10) | 0-1 |

Total 9-11 recommended, 6-8 may be recommended, 0-5 not recommended.

A document's `expires_on` is its expiry day: the FIRST day it is no longer valid. So a document expiring on
1 March counts on 28 February and not on 1 March, which is how the score drops "on the expiry day"; a document with
no expiry (a deed) counts from `valid_from` on. A score is always "as of a day": the same vetting scores lower once
a document expires, and `rescore` tells the scheduler whether that day changed it.

Years working with children: the checklist gives four bands and one point. We read it as one point for five years
or more (5-10, over 10) and none for none or under five: the one table `YEARS_SCORE` holds that reading.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from referral.domain.errors import require, require_aware


class LegalDocumentKind(enum.StrEnum):
    """The four documents of legality, one point each."""

    DEED_OF_ESTABLISHMENT = "deed_of_establishment"
    OPERATING_LICENCE = "operating_licence"
    NPWP = "npwp"
    SKT = "skt"


class YearsWithChildren(enum.StrEnum):
    """How long the organisation has worked with children."""

    NONE = "none"
    UNDER_5 = "under_5"
    FROM_5_TO_10 = "5_to_10"
    OVER_10 = "over_10"


YEARS_SCORE = {YearsWithChildren.NONE: 0, YearsWithChildren.UNDER_5: 0, YearsWithChildren.FROM_5_TO_10: 1,
               YearsWithChildren.OVER_10: 1}


class Recommendation(enum.StrEnum):
    """What the total means for the partnership."""

    RECOMMENDED = "recommended"
    MAY_BE_RECOMMENDED = "may_be_recommended"
    NOT_RECOMMENDED = "not_recommended"


ELIGIBLE_TOTAL = 6
"""The lowest total that may receive referrals (may be recommended)."""
RECOMMENDED_TOTAL = 9


def recommendation_for(total: int) -> Recommendation:
    """The checklist's recommendation for a total."""
    if total >= RECOMMENDED_TOTAL:
        return Recommendation.RECOMMENDED
    if total >= ELIGIBLE_TOTAL:
        return Recommendation.MAY_BE_RECOMMENDED
    return Recommendation.NOT_RECOMMENDED


@dataclass(frozen=True)
class LegalDocument:
    """A document of legality with its validity: from `valid_from`, up to the day before `expires_on` (if any)."""

    kind: LegalDocumentKind
    reference: str
    valid_from: dt.date
    expires_on: dt.date | None = None

    def __post_init__(self) -> None:
        require(bool(self.reference.strip()), "documents.reference", "a document needs its number or reference")
        require(self.expires_on is None or self.expires_on > self.valid_from, "documents.expires_on",
                "the expiry day must come after the first valid day")

    def valid_on(self, day: dt.date) -> bool:
        """Whether the document counts on `day` (it no longer counts on its expiry day)."""
        return self.valid_from <= day and (self.expires_on is None or day < self.expires_on)


@dataclass(frozen=True)
class Score:
    """A vetting's score as of a day, criterion by criterion."""

    legality: int
    track_record: int
    vision_and_mission: int
    child_orientation: int
    years_with_children: int

    @property
    def total(self) -> int:
        """The sum of the criteria, 0-11."""
        return (self.legality + self.track_record + self.vision_and_mission + self.child_orientation
                + self.years_with_children)

    @property
    def recommendation(self) -> Recommendation:
        """What the total recommends."""
        return recommendation_for(self.total)

    @property
    def eligible(self) -> bool:
        """Whether the provider may receive referrals on this score (6 or more)."""
        return self.total >= ELIGIBLE_TOTAL


@dataclass(frozen=True)
class Vetting:
    """One vetting of a provider: the evidence judged, who vetted and when, and the notes."""

    vetting_id: str
    documents: tuple[LegalDocument, ...]
    track_record: int
    vision_and_mission: int
    child_orientation: int
    years_with_children: YearsWithChildren
    vetted_by: str
    vetted_at: dt.datetime
    evidence: tuple[str, ...] = ()
    notes: str = ""

    def __post_init__(self) -> None:
        for name in ("track_record", "vision_and_mission", "child_orientation"):
            require(0 <= getattr(self, name) <= 2, name, "scores 0, 1 or 2")
        require(bool(self.vetted_by.strip()), "vetted_by", "a vetting names who vetted")
        require_aware(self.vetted_at, "vetted_at")

    def score_on(self, day: dt.date) -> Score:
        """The score as of `day`: one legality point per kind of document valid that day."""
        valid_kinds = {document.kind for document in self.documents if document.valid_on(day)}
        return Score(len(valid_kinds), self.track_record, self.vision_and_mission, self.child_orientation,
                     YEARS_SCORE[self.years_with_children])

    def next_change_after(self, day: dt.date) -> dt.date | None:
        """The first day after `day` on which a document starts or stops counting: when to re-score next."""
        days = {d for document in self.documents for d in (document.valid_from, document.expires_on)
                if d is not None and d > day}
        return min(days, default=None)


@dataclass(frozen=True)
class Rescoring:
    """A vetting re-scored as of a day, and whether that changed the score."""

    on: dt.date
    previous: Score
    score: Score

    @property
    def changed(self) -> bool:
        """Whether the score differs from the one last known."""
        return self.score != self.previous


def rescore(vetting: Vetting, previous: Score, on: dt.date) -> Rescoring:
    """Re-score a vetting as of `on` against the score last published (the expiry scheduler's question)."""
    return Rescoring(on, previous, vetting.score_on(on))
