"""Use cases of the `service_records` area: the referral's provider pushes service records, one or a batch.

A record goes into the referral (whose events announce it: `ServiceRecorded`, and `ServiceStarted` first when the
referral was accepted); the caller (the route, through `simpul_platform.idempotency.execute_once`) commits it with
the Idempotency-Key in one transaction. A push loads its referrals without their stored records (it only adds
one, and the referral counts them), so its cost does not grow with a referral's records. A batch loads and locks
its referrals once each, in id order (two batches
never deadlock), applies every record in order, keeps a refusal (any `DomainError`) as that record's result, and
saves each referral it changed once: the accepted records and their events commit together, the refused ones
change nothing (the domain checks a record before it changes the referral).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from referral.domain.commands.service_records import PushServiceRecord, PushServiceRecords, ServiceRecordIn
from referral.domain.errors import Forbidden
from referral.domain.lifecycle import ServiceRecord
from referral.domain.referrals import Referral
from referral.domain.service_records import Attachment
from referral.service_layer.handlers.referrals import PROVIDER_ROLE, ReferralNotFound, publish, save_and_publish
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.callers import Caller
from simpul_platform.errors import DomainError


@dataclass(frozen=True)
class Pushed:
    """What became of one pushed record: the record taken, or the refusal."""

    index: int
    referral_id: str
    record: ServiceRecord | None = None
    refusal: DomainError | None = None


async def push_service_record(command: PushServiceRecord, uow: ReferralUnitOfWork) -> ServiceRecord:
    """Record one service under one of the caller's referrals (another provider's is not found)."""
    _require_provider(command.by)
    referral = _of_provider(command.by, await uow.referrals.get(command.record.referral_id, for_update=True,
                                                                records=False))
    record = _record(command.record, command.by, command.at)
    referral.record_service(record)
    await save_and_publish(uow, [referral])
    return record


async def push_service_records(command: PushServiceRecords, uow: ReferralUnitOfWork) -> list[Pushed]:
    """Record each service of the batch that the rules take; one result per record, in order."""
    _require_provider(command.by)
    loaded = await uow.referrals.get_many([r.referral_id for r in command.records], for_update=True,
                                          records=False)
    changed: dict[str, Referral] = {}
    results = []
    for index, pushed in enumerate(command.records):
        try:
            referral = _of_provider(command.by, loaded.get(pushed.referral_id))
            record = _record(pushed, command.by, command.at)
            referral.record_service(record)
        except DomainError as refusal:
            results.append(Pushed(index, pushed.referral_id, refusal=refusal))
            continue
        changed[referral.referral_id] = referral
        results.append(Pushed(index, pushed.referral_id, record=record))
    await uow.referrals.save_many(list(changed.values()))
    for referral in changed.values():
        publish(uow, referral)
    return results


def _require_provider(by: Caller) -> None:
    if str(by.role) != PROVIDER_ROLE:
        raise Forbidden("role", "only a referral's provider pushes service records")


def _of_provider(by: Caller, referral: Referral | None) -> Referral:
    if referral is None or referral.provider_id not in by.scope:
        raise ReferralNotFound
    return referral


def _record(pushed: ServiceRecordIn, by: Caller, at: dt.datetime) -> ServiceRecord:
    return ServiceRecord(pushed.service_type, pushed.delivered_on, by.subject, at, pushed.notes, pushed.attendance,
                         pushed.outcome, tuple(Attachment(url, sha256) for url, sha256 in pushed.attachments),
                         pushed.record_id)
