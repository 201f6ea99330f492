"""Commands of the `service_records` area: a provider pushes one service record, or up to a batch of them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from referral.domain.service_records import Attendance, Outcome
from simpul_platform.callers import Caller

BATCH_MAX = 500
"""Records one batch push carries at most."""


@dataclass(frozen=True)
class ServiceRecordIn:
    """One record as a provider pushes it: which referral, the record's id (the server's), what was delivered."""

    referral_id: str
    record_id: str
    service_type: str
    delivered_on: dt.date
    attendance: Attendance = Attendance.ATTENDED
    outcome: Outcome | None = None
    notes: str = ""
    attachments: tuple[tuple[str, str], ...] = ()
    """(https URL, sha256 hex) pairs: references to files the provider keeps."""


@dataclass(frozen=True)
class PushServiceRecord:
    """Record a service delivered under one of the provider's referrals (on an accepted one it starts the service)."""

    by: Caller
    at: dt.datetime
    record: ServiceRecordIn


@dataclass(frozen=True)
class PushServiceRecords:
    """Record many services at once: each is taken or refused alone, the taken ones in one transaction."""

    by: Caller
    at: dt.datetime
    records: tuple[ServiceRecordIn, ...]
