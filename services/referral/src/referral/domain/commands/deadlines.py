"""Commands of the `deadlines` area (see `referral.service_layer.handlers`): what moves referrals without a human."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from referral.domain.deadlines import DeadlinePolicies


@dataclass(frozen=True)
class FireDueDeadlines:
    """Fire every deadline due at `now` on up to `limit` referrals: one round of the deadline job."""

    now: dt.datetime
    policies: DeadlinePolicies
    limit: int = 200
