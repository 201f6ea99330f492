"""Referrals follow the child's person through identity's merges and unmerges, redelivered or out of order."""

from __future__ import annotations

import datetime as dt

from referral.domain import events as ev
from referral.domain.person_link import PersonLink
from referral.domain.referrals import Referral

AT = dt.datetime(2026, 3, 5, 8, 0, tzinfo=dt.UTC)


def test_a_merge_moves_the_referral_to_the_surviving_person_and_an_unmerge_moves_it_back(issued: Referral) -> None:
    assert issued.follow_merge("m1", retired="p1", surviving="p9", at=AT)
    assert issued.person_id == "p9"
    assert issued.follow_unmerge("m1", AT)
    assert issued.person_id == "p1"
    assert issued.events == [
        ev.ReferralPersonChanged(referral_id="r1", provider_id="lpa-jember", by="system", at=AT,
                                 previous_person_id="p1", person_id="p9", merge_id="m1"),
        ev.ReferralPersonChanged(referral_id="r1", provider_id="lpa-jember", by="system", at=AT,
                                 previous_person_id="p9", person_id="p1", merge_id="m1")]


def test_a_merge_of_other_persons_leaves_the_referral(issued: Referral) -> None:
    assert not issued.follow_merge("m1", retired="p5", surviving="p9", at=AT)
    assert not issued.follow_unmerge("m1", AT)
    assert (issued.person_id, issued.events) == ("p1", [])


def test_a_redelivered_merge_or_unmerge_changes_nothing() -> None:
    merged = PersonLink("p1").merged("m1", "p1", "p9")
    assert merged.merged("m1", "p1", "p9") == merged
    unmerged = merged.unmerged("m1")
    assert unmerged.unmerged("m1") == unmerged
    assert unmerged.person_id == "p1"


def test_an_unmerge_arriving_before_its_merge_keeps_the_late_merge_from_moving_it() -> None:
    link = PersonLink("p1").unmerged("m1").merged("m1", "p1", "p9")
    assert link.person_id == "p1"


def test_chained_merges_unwind_one_at_a_time() -> None:
    link = PersonLink("p1").merged("m1", "p1", "p9").merged("m2", "p9", "p20")
    assert link.person_id == "p20"
    assert link.unmerged("m2").person_id == "p9"
    assert link.unmerged("m2").unmerged("m1").person_id == "p1"
