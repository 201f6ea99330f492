"""Erasing a child's identifying data (issue 13 point 2): here, and through ChildErasedV1 in every service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from registry.adapters import contract_mapping
from registry.domain import erasure
from registry.domain.attribution import require_reason
from registry.domain.commands import EraseChild
from registry.service_layer.handlers.children import access
from registry.service_layer.registration import child_in_scope
from registry.service_layer.unit_of_work import RegistryUnitOfWork
from simpul_contracts.events import ChildIdentityRecordedV1, ChildReferralDetailsRecordedV1
from simpul_platform.auth import Role
from simpul_platform.errors import Forbidden

# Only a district officer decides an erasure: a cadre registers and visits, a service integrates, neither erases.
MAY_ERASE = frozenset({Role.DISTRICT_OFFICER})
RESTRICTED_TOPICS = (ChildIdentityRecordedV1.topic, ChildReferralDetailsRecordedV1.topic)


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: when, and how many stored Idempotency-Key answers that showed the child it dropped."""

    child_id: str
    erased_at: datetime
    answers_forgotten: int


async def erase_child(command: EraseChild, uow: RegistryUnitOfWork) -> Erasure:
    """Blank the child's identifying data, freeze the record, tell every service, tombstone the restricted topics."""
    if command.by.role not in MAY_ERASE:
        raise Forbidden("role", "only a district officer may erase a child's data")
    require_reason(command.reason)
    record = await child_in_scope(uow.children, command.by, command.child_id)
    case = await uow.children.case_of(command.child_id)
    erasure.erase(record, command.at)
    await uow.children.erase(record, case)
    forgotten = await uow.idempotency_keys.forget_answers_naming(command.child_id)
    uow.publish(contract_mapping.erased(record.child, case, command.code, command.at))
    for topic in RESTRICTED_TOPICS:  # compaction then drops every earlier record of the child from these logs
        uow.tombstone(topic, command.child_id)
    uow.audit(access(command.by, "erase", [command.child_id], command.reason))
    return Erasure(command.child_id, command.at, forgotten)
