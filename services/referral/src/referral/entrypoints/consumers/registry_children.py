"""Consumer of registry.child.v1 (one consumer per topic per service): the guardians' consent for referral
(`registry_consent`, the referrals area's), the case status of referred children (`case_status`, the deadlines
area's) and erasures (`registry_erasures`, the child details area's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from referral.config import ReferralSettings
from referral.entrypoints.consumers.case_status import case_status_changed
from referral.entrypoints.consumers.registry_consent import consent_changed
from referral.entrypoints.consumers.registry_erasures import child_erased
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events import CaseStatusChangedV1, ChildErasedV1, ConsentChangedV1
from simpul_platform.runtime import ServiceRuntime

TOPIC = ConsentChangedV1.topic


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReferralUnitOfWork],
             clock: Callable[[], dt.datetime], settings: ReferralSettings) -> None:
    """Subscribe referral to the registry's child events it acts on."""
    runtime.consume(TOPIC, {ConsentChangedV1: consent_changed(clock),
                            CaseStatusChangedV1: case_status_changed(settings),
                            ChildErasedV1: child_erased(clock)}, unit_of_work)
