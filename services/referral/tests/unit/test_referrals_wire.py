"""Referral's events on the wire: every referral enum that crosses it has its contract enum's members, every domain
referral event has a wire event, and what goes out is pseudonymous (codes, no notes or free text)."""

from __future__ import annotations

import datetime as dt
import enum

import pytest

from referral.adapters.contract_mapping import consent_state, referral_events
from referral.domain import events as ev
from referral.domain.consent import ConsentState
from referral.domain.deadlines import DeadlineKind
from referral.domain.lifecycle import DeclineReason, RevocationReason
from referral.entrypoints.consumers.registry_consent import consent_changed
from referral.service_layer.fake import FakeReferralUnitOfWork
from simpul_contracts.events.common import Sex
from simpul_contracts.events.referral import referrals as wire
from simpul_contracts.events.registry import (
    CaseStatus,
    Classification,
    ConsentChangedV1,
    ConsentDecision,
    ConsentPurpose,
)
from simpul_platform.delivery import Delivery

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ABOUT = {"referral_id": "r1", "provider_id": "lpa", "by": "officer-jember", "at": AT}
PAIRS = [(DeclineReason, wire.DeclineReason), (RevocationReason, wire.RevocationReason)]


@pytest.mark.parametrize(("domain", "contract"), PAIRS, ids=[d.__name__ for d, _ in PAIRS])
def test_domain_and_wire_enums_have_the_same_values(domain: type[enum.Enum], contract: type[enum.Enum]) -> None:
    assert {m.value for m in domain} == {m.value for m in contract}


def test_the_overdue_steps_are_the_deadlines_that_mark_overdue() -> None:
    overdue = {DeadlineKind.ACKNOWLEDGE, DeadlineKind.ANSWER}  # escalation and expiry have events of their own
    assert {m.value for m in overdue} == {m.value for m in wire.DeadlineStep}


def test_every_domain_referral_event_has_its_wire_event() -> None:
    samples: list[ev.ReferralEvent] = [
        ev.ReferralIssued(**ABOUT, child_id="c1", person_id="p1", district="35.09",
                          service_types=("child.school_re_entry",), consent_overridden=True, previous_referral_id=None),
        ev.ReferralAcknowledged(**ABOUT), ev.ReferralAccepted(**ABOUT),
        ev.ReferralDeclined(**ABOUT, reason="no places until July, ask Ibu Siti"),
        ev.ServiceStarted(**ABOUT),
        ev.ServiceRecorded(**ABOUT, service_type="child.school_re_entry", delivered_on=AT.date()),
        ev.ReferralCompleted(**ABOUT),
        ev.ReferralRevoked(**ABOUT, reason=RevocationReason.DISTRICT_DECISION, note="the family moved to Bali"),
        ev.ReferralExpired(**ABOUT),
        ev.ReferralOverdue(**ABOUT, deadline_id="r1/acknowledge", step="acknowledge", due_at=AT),
        ev.ReferralEscalated(**ABOUT, deadline_id="r1/escalation", due_at=AT),
        ev.ReferralPersonChanged(**ABOUT, previous_person_id="p1", person_id="p2", merge_id="m1"),
    ]
    subclasses = {cls for cls in vars(ev).values()
                  if isinstance(cls, type) and issubclass(cls, ev.ReferralEvent) and cls is not ev.ReferralEvent}
    assert {type(sample) for sample in samples} == subclasses
    published = referral_events(samples)
    assert all(event.referral_id == "r1" and event.key == "r1" for event in published)
    assert published[3] == wire.ReferralDeclinedV1(**ABOUT, reason=wire.DeclineReason.OTHER)  # free text never goes out
    assert "Bali" not in published[7].model_dump_json()


def _consent(purpose: ConsentPurpose, decision: ConsentDecision, in_force: ConsentDecision) -> ConsentChangedV1:
    return ConsentChangedV1(child_id="c1", person_id=None, sex=Sex.MALE, birth_year=2012, village_code="35.09.11.2007",
                            case_id="k1", classification=Classification.AT_RISK, status=CaseStatus.ASSESSED,
                            purpose=purpose, decision=decision, decided_on=AT.date(), decision_in_force=in_force,
                            recorded_at=AT, recorded_by="kader")


def test_a_consent_event_is_read_by_its_decision_in_force_for_referral_only() -> None:
    late_paper_form = _consent(ConsentPurpose.REFERRAL, ConsentDecision.WITHDRAWN, ConsentDecision.GIVEN)
    state = consent_state(late_paper_form)
    assert state is not None
    assert (state.child_id, state.given, state.recorded_at) == ("c1", True, AT)
    assert consent_state(_consent(ConsentPurpose.DATA_SHARING, ConsentDecision.GIVEN, ConsentDecision.GIVEN)) is None


async def test_the_consent_consumer_records_referral_decisions_and_skips_other_purposes() -> None:
    events = [_consent(ConsentPurpose.DATA_SHARING, ConsentDecision.REFUSED, ConsentDecision.REFUSED),
              _consent(ConsentPurpose.REFERRAL, ConsentDecision.GIVEN, ConsentDecision.GIVEN)]
    uow = FakeReferralUnitOfWork()
    async with uow:
        handle = consent_changed(lambda: AT)
        await handle(uow, [Delivery(record=None, envelope=e.envelope(), event=e) for e in events])  # type: ignore[arg-type]
        await uow.commit()
    async with uow:
        assert await uow.consents.get("c1") == ConsentState("c1", True, AT)
