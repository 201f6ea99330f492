"""Registry's ChildErasedV1 (on `registry.child.v1`): the child's minimal details are forgotten for good."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from referral.adapters.contract_mapping import erasure
from referral.domain.commands.child_details import EraseChildrenDetails
from referral.service_layer.handlers.child_details import erase_children_details
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events import ChildErasedV1
from simpul_platform.delivery import Delivery


async def child_erased(uow: ReferralUnitOfWork, run: Sequence[Delivery]) -> None:
    """The batch handler: a run of erasures as one command."""
    erasures = [erasure(cast(ChildErasedV1, delivery.event)) for delivery in run]
    await erase_children_details(EraseChildrenDetails(tuple(w for w, _ in erasures), tuple(r for _, r in erasures)),
                                 uow)
