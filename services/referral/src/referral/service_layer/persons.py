"""Which persons referral knows of, pseudonymously, so referrals can name a person id."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from referral.adapters.orm import known_persons
from simpul_contracts import CloudEvent
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.upsert import upsert


async def record_linked(session: AsyncSession, event: RecordLinkedV1, _envelope: CloudEvent) -> None:
    """Keep the record -> person mapping current."""
    row = {"record_key": event.key, "person_id": event.person_id, "village_code": event.village_code,
           "updated_at": dt.datetime.now(dt.UTC)}
    await upsert(session, known_persons, row, key=["record_key"])
