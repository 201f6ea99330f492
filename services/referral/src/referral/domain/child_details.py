"""The minimal details of a child referral may refer (ADR 0004): what a provider needs to serve it (name, sex, age,
village, guardians' contact), never NIK or KK.

The registry sends them while the guardian's consent for referral holds and withdraws them when it ends; each
version carries the moment the registry recorded it (`as_of`), and only a later one supersedes what is held, so a
redelivered or late older event never undoes a newer one. What is held after a withdrawal or an erasure is the
moment alone, without details.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from referral.domain.errors import NotFound, require, require_aware
from referral.domain.lifecycle import OPEN
from referral.domain.referrals import Referral


@dataclass(frozen=True)
class GuardianContact:
    """A guardian of the child, how they are related to it, and their phone when the registry has one."""

    name: str
    relationship: str
    phone: str | None = None


@dataclass(frozen=True)
class ChildDetails:
    """The minimal details of one child as the registry recorded them at `as_of`."""

    child_id: str
    full_name: str
    sex: str
    birth_date: dt.date | None
    birth_date_precision: str | None
    village_code: str
    guardians: tuple[GuardianContact, ...]
    consent_given_on: dt.date
    as_of: dt.datetime

    def __post_init__(self) -> None:
        require(bool(self.full_name.strip()), "full_name", "every child has a name")
        require_aware(self.as_of, "as_of")

    def age_on(self, day: dt.date) -> int | None:
        """Completed years on `day`; None without a birth date (a year-only date counts from 1 January)."""
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True)
class Withdrawal:
    """The guardian's consent for referral ended at `as_of`: forget the details recorded before."""

    child_id: str
    as_of: dt.datetime

    def __post_init__(self) -> None:
        require_aware(self.as_of, "as_of")


@dataclass(frozen=True)
class Held:
    """What referral holds of a child: the moment of the last version applied, and the details unless withdrawn or
    erased since."""

    child_id: str
    as_of: dt.datetime
    details: ChildDetails | None

    def superseded_by(self, as_of: dt.datetime) -> bool:
        """Whether a version recorded at `as_of` is newer than what is held (an older or equal one is ignored)."""
        return as_of > self.as_of


V = TypeVar("V", ChildDetails, Withdrawal)


def latest_per_child(versions: tuple[V, ...]) -> dict[str, V]:
    """The newest version of each child in a run (by `as_of`; of equal ones the last)."""
    latest: dict[str, V] = {}
    for version in versions:
        held = latest.get(version.child_id)
        if held is None or version.as_of >= held.as_of:
            latest[version.child_id] = version
    return latest


def last_closure(referrals: Sequence[Referral]) -> dt.datetime | None:
    """When the last of a child's referrals closed; None while one is open, or without any."""
    if not referrals or any(referral.status in OPEN for referral in referrals):
        return None
    return max(referral.history[-1].at for referral in referrals)


def erasable(closed_since: dt.datetime | None, now: dt.datetime, retention: dt.timedelta) -> bool:
    """Whether the details may go: the child's last referral closed at least `retention` ago and none is open."""
    return closed_since is not None and now - closed_since >= retention


class ChildDetailsNotFound(NotFound):
    """No details of that child in the caller's scope: never referred there, consent withdrawn, or erased."""

    def __init__(self) -> None:
        super().__init__("child_id", "no minimal details of this child are held in your scope (no consent for "
                                     "referral, withdrawn, or erased after the retention)")
