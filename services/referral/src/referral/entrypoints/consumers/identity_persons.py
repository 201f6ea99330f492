"""Consumer of identity.person.v1: referrals follow identity's merges to the surviving person, and back on an unmerge.

Redeliveries are skipped by the inbox; an unmerge that arrives before its merge is remembered on the referrals
(`referral.domain.person_link`), so the late merge moves nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from referral.adapters.contract_mapping import person_unmerged, persons_merged
from referral.domain.commands.persons import FollowMerges, FollowUnmerges
from referral.service_layer.handlers.persons import follow_merges, follow_unmerges
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_contracts.events import PersonsMergedV1, PersonUnmergedV1
from simpul_platform.delivery import Delivery
from simpul_platform.runtime import ServiceRuntime


async def merged(uow: ReferralUnitOfWork, run: Sequence[Delivery]) -> None:
    """A run of merges as one command."""
    await follow_merges(FollowMerges(tuple(persons_merged(cast(PersonsMergedV1, d.event)) for d in run)), uow)


async def unmerged(uow: ReferralUnitOfWork, run: Sequence[Delivery]) -> None:
    """A run of unmerges as one command."""
    await follow_unmerges(FollowUnmerges(tuple(person_unmerged(cast(PersonUnmergedV1, d.event)) for d in run)), uow)


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReferralUnitOfWork]) -> None:
    """Subscribe referral to identity's person events."""
    runtime.consume(PersonsMergedV1.topic, {PersonsMergedV1: merged, PersonUnmergedV1: unmerged}, unit_of_work)
