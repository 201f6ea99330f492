"""Commands of the `child_details` area (see `referral.service_layer.handlers`): keep the registry's minimal details
of children, forget them when consent is withdrawn or the retention after the last referral is over, read them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from referral.domain.child_details import ChildDetails, Withdrawal
from simpul_platform.callers import Caller


@dataclass(frozen=True)
class KeepChildDetails:
    """Hold the registry's latest details of each child (one run of details events, in order)."""

    versions: tuple[ChildDetails, ...]
    received_at: dt.datetime


@dataclass(frozen=True)
class WithdrawChildDetails:
    """Forget the details of children whose guardians' consent for referral ended (one run of withdrawals)."""

    withdrawals: tuple[Withdrawal, ...]


@dataclass(frozen=True)
class EraseChildrenDetails:
    """The registry erased these children (ChildErasedV1, `reasons` codes): forget their details for good, and the
    free texts of their referrals (the referrals of the child's record, whatever person they follow now); their
    open referrals are revoked at `at`."""

    erasures: tuple[Withdrawal, ...]
    reasons: tuple[str, ...]
    at: dt.datetime


@dataclass(frozen=True)
class EraseExpiredChildDetails:
    """One round of the erasure job: erase the details of children whose last referral closed `retention` ago.

    At most `limit` children are looked at; one that may not go yet is looked at again when it may (its last
    referral's closure plus the retention), or after `recheck` while it has an open referral or none.
    """

    now: dt.datetime
    retention: dt.timedelta
    recheck: dt.timedelta
    limit: int = 500


@dataclass(frozen=True)
class ReadChildDetails:
    """A district officer reads a child's minimal details (audited with the reason given)."""

    by: Caller
    child_id: str
    on: dt.date
    reason: str | None = None
