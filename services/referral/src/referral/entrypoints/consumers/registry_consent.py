"""Registry's ConsentChangedV1 (on `registry.child.v1`): the guardians' consent for referral, as referral keeps it.
A withdrawal revokes the child's open referrals, and the revocations tell the providers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import cast

from referral.adapters.contract_mapping import consent_state
from referral.domain.commands.referrals import RecordConsentDecisions
from referral.service_layer.handlers.referrals import record_consent_decisions
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events import ConsentChangedV1
from simpul_platform.consumer import BatchHandler
from simpul_platform.delivery import Delivery


def consent_changed(clock: Callable[[], dt.datetime]) -> BatchHandler:
    """The batch handler: a run of consent events as one command (decisions for other purposes left out)."""

    async def handle(uow: ReferralUnitOfWork, run: Sequence[Delivery]) -> None:
        states = (consent_state(cast(ConsentChangedV1, delivery.event)) for delivery in run)
        decisions = tuple(state for state in states if state is not None)
        if decisions:
            await record_consent_decisions(RecordConsentDecisions(decisions, clock()), uow)

    return handle
