"""Consumer of referral's own `referral.referral.v1`: a webhook delivery per event and endpoint that wants it.

The deliveries are recorded in the consumer's transaction with its inbox rows, so each event makes one delivery per
endpoint, once, however often Kafka redelivers it; the delivery job (`entrypoints.webhook_attempts`) attempts them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import cast

from referral.adapters.contract_mapping import NOTIFIED_EVENTS, referral_notice
from referral.domain.commands.webhooks import RecordDeliveries
from referral.service_layer.handlers.webhooks import record_deliveries
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events.referral.referrals import ReferralEvent
from simpul_platform.consumer import BatchHandler
from simpul_platform.delivery import Delivery
from simpul_platform.runtime import ServiceRuntime


def deliveries_recorded(clock: Callable[[], dt.datetime]) -> BatchHandler:
    """The batch handler: a run of referral events as one command."""
    async def handle(uow: ReferralUnitOfWork, run: Sequence[Delivery]) -> None:
        notices = tuple(referral_notice(cast(ReferralEvent, d.event), d.envelope.id) for d in run)
        await record_deliveries(RecordDeliveries(notices, clock()), uow)

    return handle


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReferralUnitOfWork],
             clock: Callable[[], dt.datetime]) -> None:
    """Subscribe referral to its own referral events, for the providers' webhooks."""
    handle = deliveries_recorded(clock)
    runtime.consume(ReferralEvent.topic, dict.fromkeys(NOTIFIED_EVENTS, handle), unit_of_work)
