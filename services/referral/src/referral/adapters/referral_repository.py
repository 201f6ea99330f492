"""Where referral keeps referrals (their steps, services and person link) and the guardians' consent decisions.
The abstract repositories, their SQL versions and their in-memory versions (for the fake).

Owned by the referrals area. The tables live here too, on `referral.adapters.orm.metadata`.
"""

from __future__ import annotations

import abc
import datetime as dt

from referral.domain.referrals import Referral


class Referrals(abc.ABC):
    """Referrals by id, each loaded whole as the domain's `Referral` aggregate."""

    @abc.abstractmethod
    async def get(self, referral_id: str) -> Referral | None:
        """The referral, if it exists."""

    @abc.abstractmethod
    async def save(self, referral: Referral) -> None:
        """Insert or update the referral and its history."""

    @abc.abstractmethod
    async def open_of_provider(self, provider_id: str) -> list[Referral]:
        """The provider's referrals that are not closed (completed, declined, revoked or expired), oldest first,
        locked for this transaction (a suspension moves them back to the district queue)."""

    @abc.abstractmethod
    async def open_of_child(self, child_id: str) -> list[Referral]:
        """The child's open referrals, oldest first, locked for this transaction (consent withdrawal, case
        closure)."""

    @abc.abstractmethod
    async def of_person(self, person_id: str) -> list[Referral]:
        """Every referral whose current person id is `person_id` (identity merges move them), oldest first, locked
        for this transaction."""

    @abc.abstractmethod
    async def closed_since(self, child_id: str) -> dt.datetime | None:
        """When the child's last referral closed, if it has referrals and none is open; None while one is open or
        when it was never referred (the retention of the child's minimal details counts from here)."""
