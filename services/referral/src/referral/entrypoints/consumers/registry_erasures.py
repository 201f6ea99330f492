"""Registry's ChildErasedV1 (on `registry.child.v1`): the child's minimal details are forgotten for good, and the
child's open referrals are revoked (the revocations tell the providers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import cast

from referral.adapters.contract_mapping import erasures
from referral.service_layer.handlers.child_details import erase_children_details
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events import ChildErasedV1
from simpul_platform.consumer import BatchHandler
from simpul_platform.delivery import Delivery


def child_erased(clock: Callable[[], dt.datetime]) -> BatchHandler:
    """The batch handler: a run of erasures as one command."""

    async def handle(uow: ReferralUnitOfWork, run: Sequence[Delivery]) -> None:
        await erase_children_details(erasures([cast(ChildErasedV1, delivery.event) for delivery in run], clock()), uow)

    return handle
