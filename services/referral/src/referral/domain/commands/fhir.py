"""Commands of the `fhir` area (see `referral.service_layer.handlers.fhir`): a provider searches its referrals and
moves one along the lifecycle through the FHIR façade. The FHIR shapes stay at the edge (`adapters.fhir_mapping`);
these name what is asked in the lifecycle's own words."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass

from referral.domain.commands.provider_sync import SyncPosition
from referral.domain.errors import require
from referral.domain.lifecycle import DeclineReason, ReferralStatus
from referral.domain.referrals import Referral
from simpul_platform.callers import Caller


class Move(enum.StrEnum):
    """A lifecycle move a provider asks for (each one handler of the referrals area)."""

    ACKNOWLEDGE = "acknowledge"
    ACCEPT = "accept"
    DECLINE = "decline"
    START = "start"
    COMPLETE = "complete"


@dataclass(frozen=True)
class StatusChange:
    """The moves that take a referral where a provider asks, in order (none: it is there already)."""

    moves: tuple[Move, ...]
    decline_reason: DeclineReason | None = None

    def __post_init__(self) -> None:
        require(Move.DECLINE not in self.moves or self.decline_reason is not None, "statusReason",
                "a decline says why")


@dataclass(frozen=True)
class SearchProviderReferrals:
    """The provider's referrals in `statuses` (None: all), saved at or after `updated_since`, in the order of their
    last change, `limit` after position `after`; with how many match in all (up to `count_up_to`)."""

    by: Caller
    statuses: frozenset[ReferralStatus] | None = None
    updated_since: dt.datetime | None = None
    limit: int = 50
    after: SyncPosition | None = None
    count_up_to: int = 1000


@dataclass(frozen=True)
class ChangeReferralStatus:
    """Move a provider's referral where `change_of` says, given the referral as it stands (If-Match: the version
    the provider read)."""

    by: Caller
    referral_id: str
    at: dt.datetime
    expected_version: int | None
    change_of: Callable[[Referral], StatusChange]
