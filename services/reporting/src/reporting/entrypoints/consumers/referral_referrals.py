"""Consumer of referral.referral.v1: every referral event kept as a fact of the referral indicators."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from reporting.adapters.contract_mapping import REFERRAL_STEPS, referral_event
from reporting.domain.indicator_commands import KeepReferralEvents
from reporting.service_layer.indicator_handlers import keep_referral_events
from reporting.service_layer.unit_of_work import ReportingUnitOfWork
from simpul_contracts.events.referral.referrals import ReferralEvent, ReferralIssuedV1
from simpul_platform.delivery import Delivery
from simpul_platform.runtime import ServiceRuntime


async def referral_events(uow: ReportingUnitOfWork, run: Sequence[Delivery]) -> None:
    """A run of referral events as one command."""
    events = tuple(referral_event(cast(ReferralEvent, d.event), d.envelope) for d in run)
    await keep_referral_events(KeepReferralEvents(events), uow)


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReportingUnitOfWork]) -> None:
    """Subscribe reporting to referral's referral events."""
    runtime.consume(ReferralIssuedV1.topic, dict.fromkeys(REFERRAL_STEPS, referral_events), unit_of_work)
