"""Consumer of registry.child.v1 (one consumer per topic per service): the guardians' consent for referral
(`registry_consent`, the referrals area's) and the case status of referred children (`case_status`, the deadlines
area's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from referral.config import ReferralSettings
from referral.entrypoints.consumers.case_status import case_status_changed
from referral.entrypoints.consumers.registry_consent import consent_changed
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events import CaseStatusChangedV1, ConsentChangedV1
from simpul_platform.runtime import ServiceRuntime

TOPIC = ConsentChangedV1.topic


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReferralUnitOfWork],
             clock: Callable[[], dt.datetime], settings: ReferralSettings) -> None:
    """Subscribe referral to the registry's child events it acts on."""
    runtime.consume(TOPIC, {ConsentChangedV1: consent_changed(clock),
                            CaseStatusChangedV1: case_status_changed(settings)}, unit_of_work)
