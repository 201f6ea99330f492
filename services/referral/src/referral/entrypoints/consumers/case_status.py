"""The registry's case status changes (`registry.child.v1`, CaseStatusChangedV1) shown on the child's referrals.

The topic's one consumer is `registry_children`: it puts `case_status_changed(settings)` in its handler map. Whether
a closure revokes the child's open referrals is each district's setting (`case_closure_revokes*`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from referral.adapters.contract_mapping import case_status
from referral.config import ReferralSettings
from referral.domain.case_status import ClosureRule
from referral.domain.commands.persons import RecordCaseStatuses
from referral.service_layer.handlers.persons import record_case_statuses
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events import CaseStatusChangedV1
from simpul_platform.consumer import BatchHandler
from simpul_platform.delivery import Delivery


def closure_rule(settings: ReferralSettings) -> ClosureRule:
    """The districts' closure rule, from settings."""
    return ClosureRule(settings.case_closure_revokes, dict(settings.case_closure_revokes_by_district))


def case_status_changed(settings: ReferralSettings) -> BatchHandler:
    """The batch handler for a run of case status changes, under the configured closure rule."""
    closure = closure_rule(settings)

    async def handle(uow: ReferralUnitOfWork, run: Sequence[Delivery]) -> None:
        statuses = tuple(case_status(cast(CaseStatusChangedV1, delivery.event)) for delivery in run)
        await record_case_statuses(RecordCaseStatuses(statuses, closure), uow)

    return handle
