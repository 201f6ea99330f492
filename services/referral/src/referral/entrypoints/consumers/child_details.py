"""Consumer of registry.child-referral.v1 (restricted): the minimal details of children whose guardians consented to
referral, and their withdrawal (ADR 0004). Runs of one type, in order, become one command each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import cast

from referral.adapters import contract_mapping
from referral.domain.commands.child_details import KeepChildDetails, WithdrawChildDetails
from referral.service_layer.handlers.child_details import keep_child_details, withdraw_child_details
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events import ChildReferralDetailsRecordedV1, ChildReferralDetailsWithdrawnV1
from simpul_platform.delivery import Delivery
from simpul_platform.runtime import ServiceRuntime


async def details_withdrawn(uow: ReferralUnitOfWork, run: Sequence[Delivery]) -> None:
    """A run of withdrawals as one command."""
    withdrawals = tuple(contract_mapping.details_withdrawal(cast(ChildReferralDetailsWithdrawnV1, delivery.event))
                        for delivery in run)
    await withdraw_child_details(WithdrawChildDetails(withdrawals), uow)


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReferralUnitOfWork],
             clock: Callable[[], dt.datetime]) -> None:
    """Subscribe referral to the registry's minimal child details."""

    async def details_recorded(uow: ReferralUnitOfWork, run: Sequence[Delivery]) -> None:
        versions = tuple(contract_mapping.child_details(cast(ChildReferralDetailsRecordedV1, delivery.event))
                         for delivery in run)
        await keep_child_details(KeepChildDetails(versions, received_at=clock()), uow)

    runtime.consume(ChildReferralDetailsRecordedV1.topic, {ChildReferralDetailsRecordedV1: details_recorded,
                                                           ChildReferralDetailsWithdrawnV1: details_withdrawn},
                    unit_of_work)
