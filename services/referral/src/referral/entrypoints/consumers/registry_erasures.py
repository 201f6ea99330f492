"""Registry's ChildErasedV1 (on `registry.child.v1`): the child's minimal details are forgotten for good."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from referral.adapters.contract_mapping import erasures
from referral.service_layer.handlers.child_details import erase_children_details
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events import ChildErasedV1
from simpul_platform.delivery import Delivery


async def child_erased(uow: ReferralUnitOfWork, run: Sequence[Delivery]) -> None:
    """The batch handler: a run of erasures as one command."""
    await erase_children_details(erasures([cast(ChildErasedV1, delivery.event) for delivery in run]), uow)
