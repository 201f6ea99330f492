"""The webhook jobs, registered by bootstrap with `runtime.every(...)`: the delivery job attempts the deliveries that
are due; the purge job forgets finished deliveries past the delivery log's retention.

A round is three steps: claim the due deliveries in one short transaction (`FOR UPDATE SKIP LOCKED`, each moved a
lease ahead, so another replica neither holds nor sees them), attempt them all at once outside any transaction, and
record the attempts in a second transaction. A replica that dies between the steps leaves its deliveries to come
due again when the lease ends: an attempt may be repeated (receivers dedupe on `webhook-id`), never run twice at
once. Time is the wiring's clock.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from referral.adapters.webhook_sender import WebhookSender
from referral.config import ReferralSettings
from referral.domain.commands.webhooks import AttemptMade, ClaimDueDeliveries, PurgeDeliveryLog, RecordAttempts
from referral.domain.webhook_destinations import DestinationRule
from referral.domain.webhooks import DisablePolicy, RetrySchedule
from referral.service_layer.handlers.webhooks import claim_due_deliveries, purge_delivery_log, record_attempts
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.runtime import ServiceRuntime
from simpul_platform.unit_of_work import execute

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class DeliveryRules:
    """What the settings say about delivering: the schedule, the disable policy, the round size and the lease."""

    schedule: RetrySchedule
    policy: DisablePolicy
    batch_size: int
    lease: dt.timedelta

    @classmethod
    def from_settings(cls, settings: ReferralSettings) -> DeliveryRules:
        """The rules the settings configure; the lease outlasts an attempt twice over."""
        schedule = RetrySchedule(tuple(dt.timedelta(seconds=s) for s in settings.webhook_retry_schedule_seconds),
                                 settings.webhook_retry_jitter,
                                 dt.timedelta(seconds=settings.webhook_retry_after_cap_seconds))
        policy = DisablePolicy(dt.timedelta(days=settings.webhook_disable_after_days),
                               settings.webhook_disable_after_exhausted)
        lease = dt.timedelta(seconds=2 * settings.webhook_timeout_seconds + 5)
        return cls(schedule, policy, settings.webhook_batch_size, lease)


def destination_rule(settings: ReferralSettings) -> DestinationRule:
    """The destinations the configuration allows besides public https ones."""
    return DestinationRule.from_entries(settings.webhook_allowed_destinations)


def sender_for(settings: ReferralSettings) -> WebhookSender:
    """The sender the settings configure."""
    return WebhookSender(destination_rule(settings), settings.webhook_timeout_seconds)


async def attempt_due_deliveries(unit_of_work: Callable[[], ReferralUnitOfWork], sender: WebhookSender, clock: Clock,
                                 rules: DeliveryRules, draw: Callable[[], float] = random.random) -> int:
    """Rounds until nothing is due; how many attempts were made."""
    made = 0
    while True:
        now = clock()
        outgoing = await execute(unit_of_work(), claim_due_deliveries,
                                 ClaimDueDeliveries(now, rules.lease, rules.batch_size))
        if not outgoing:
            return made
        outcomes = await sender.send_all(outgoing, now)
        attempts = tuple(AttemptMade(o.delivery_id, o.number, outcome, now, draw())
                         for o, outcome in zip(outgoing, outcomes, strict=True))
        await execute(unit_of_work(), record_attempts, RecordAttempts(attempts, rules.schedule, rules.policy))
        made += len(attempts)
        if len(outgoing) < rules.batch_size:
            return made


async def purge_old_deliveries(unit_of_work: Callable[[], ReferralUnitOfWork], clock: Clock,
                               retention: dt.timedelta, limit: int = 500) -> int:
    """Rounds of one transaction each until no finished delivery older than `retention` is left; how many went."""
    purged = 0
    while True:
        gone = await execute(unit_of_work(), purge_delivery_log, PurgeDeliveryLog(clock() - retention, limit))
        purged += gone
        if gone < limit:
            return purged


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReferralUnitOfWork], clock: Clock,
             settings: ReferralSettings) -> None:
    """Run the delivery job every `webhook_delivery_seconds`, the purge job every `webhook_log_purge_seconds`."""
    rules, sender = DeliveryRules.from_settings(settings), sender_for(settings)

    async def deliver() -> None:
        await attempt_due_deliveries(unit_of_work, sender, clock, rules)

    async def purge() -> None:
        await purge_old_deliveries(unit_of_work, clock, dt.timedelta(days=settings.webhook_log_retention_days))

    runtime.every(settings.webhook_delivery_seconds, "webhooks", deliver)
    runtime.every(settings.webhook_log_purge_seconds, "webhook-log-purge", purge)
