"""Referral's use cases: each a handler(command, uow); the caller commits."""

from __future__ import annotations

from referral.domain.commands.persons import RecordKnownPersons
from referral.domain.model import latest_per_record
from referral.service_layer.unit_of_work import ReferralUnitOfWork


async def record_known_persons(command: RecordKnownPersons, uow: ReferralUnitOfWork) -> None:
    """Keep the record -> person mapping current, so referrals can name a person id."""
    await uow.known_persons.save(latest_per_record(command.persons))
