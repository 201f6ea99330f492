"""Where referral keeps the minimal details of children it may refer (name, sex, age, village, guardian contact;
never NIK or KK), encrypted at rest and present only while the guardian's consent for referral holds.
The abstract repository, its SQL version and its in-memory version (for the fake).

Owned by the child-details area. The tables live here too, on `referral.adapters.orm.metadata`.
"""

from __future__ import annotations

import abc


class ChildDetailsVault(abc.ABC):
    """The minimal details of each child, by registry child id."""

    @abc.abstractmethod
    async def erase(self, child_id: str) -> bool:
        """Forget the child's details (consent withdrawn, or the retention after the last referral closed is over);
        whether there were any."""
