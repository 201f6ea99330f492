"""Child record use cases: register, change, read, search, and keep identity's person ids."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace

from registry.adapters import contract_mapping
from registry.domain.case import Case
from registry.domain.commands import AttachPersons, ReadChild, RegisterChild, SearchChildren, UpdateChild
from registry.domain.errors import DuplicateSource, StaleVersion, VersionConflict
from registry.domain.record import ChildRecord
from registry.service_layer import referral_details
from registry.service_layer.registration import apply_changes, child_in_scope, child_to_change, prepare_registration
from registry.service_layer.unit_of_work import RegistryUnitOfWork
from simpul_platform.callers import Caller
from simpul_platform.unit_of_work import Access

log = logging.getLogger(__name__)

IDENTIFYING = frozenset({"full_name", "sex", "birth_date", "birth_date_precision", "nik", "kk_number",
                         "mother_name", "village_code"})
PSEUDONYMOUS = frozenset({"sex", "birth_date", "village_code"})


@dataclass(frozen=True)
class ChildView:
    """A child's record with its case: what a read answers."""

    record: ChildRecord
    case: Case | None

    @property
    def child_id(self) -> str:
        """The child's id (what an idempotency key remembers)."""
        return self.record.child_id


def access(by: Caller, action: str, child_ids: list[str] | tuple[str, ...], reason: str | None) -> Access:
    """The audit entry of an access to child records."""
    return Access(subject=by.subject, role=str(by.role), action=action, resource="child",
                  resource_ids=tuple(child_ids), reason=reason)


async def register_child(command: RegisterChild, uow: RegistryUnitOfWork) -> ChildView:
    """Store a new child (and its case when classified) and publish its events."""
    registration = await prepare_registration(uow.rules, command.by, uow.regions, command.details,
                                              source_record_id=command.source_record_id, classify=command.classify)
    record = registration.record
    child = record.child
    if await uow.children.by_sources([(child.source_system, child.source_record_id)]):
        raise DuplicateSource
    await uow.children.add(record)
    if registration.case is not None:
        await uow.children.save_case(registration.case)
    uow.publish(*registration.events)
    uow.audit(access(command.by, "register", [child.child_id], command.reason))
    return ChildView(record, registration.case)


async def update_child(command: UpdateChild, uow: RegistryUnitOfWork) -> ChildRecord:
    """Change a child's details if nobody changed them since `read_version`; events for what changed."""
    record = await child_to_change(uow.children, command.by, command.child_id)
    if record.version != command.read_version:
        raise StaleVersion
    before, minimal_before = record.identifying(), referral_details.minimal(record)
    await apply_changes(uow.regions, uow.rules, command.by, record, command.changes)
    record.updated_at = at = dt.datetime.now(dt.UTC)
    if command.source_digest is not None:
        record.source_digest = command.source_digest
    try:
        await uow.children.save(record, command.read_version)
    except VersionConflict:
        raise StaleVersion from None
    changed = {name for name, value in record.identifying().items() if before[name] != value}
    if changed & IDENTIFYING:
        uow.publish(contract_mapping.identity_recorded(record))
    if changed & PSEUDONYMOUS:
        uow.publish(contract_mapping.updated(record.child, await uow.children.case_of(command.child_id)))
    if referral_details.minimal(record) != minimal_before:
        consent = await uow.children.consent_of(command.child_id)
        uow.publish(*referral_details.on_change(record, consent, at))
    return record


async def read_child(command: ReadChild, uow: RegistryUnitOfWork) -> ChildView:
    """One child in the caller's scope, with its case; the read is audited."""
    record = await child_in_scope(uow.children, command.by, command.child_id)
    uow.audit(access(command.by, command.action, [command.child_id], command.reason))
    return ChildView(record, await uow.children.case_of(command.child_id))


@dataclass(frozen=True)
class SearchPage:
    """One page of a search, and the cursor of the next page when there is one."""

    items: list[ChildView]
    next_cursor: str | None


async def search_children(command: SearchChildren, uow: RegistryUnitOfWork) -> SearchPage:
    """Children matching a search within its scope, their cases loaded together; one audit entry for the page."""
    limit = command.search.limit
    records = await uow.children.search(replace(command.search, limit=limit + 1))
    page, more = records[:limit], len(records) > limit
    ids = [record.child_id for record in page]
    cases = await uow.children.cases_of(ids)
    if ids:
        uow.audit(access(command.by, "search", ids, command.reason))
    return SearchPage([ChildView(record, cases.get(record.child_id)) for record in page],
                      ids[-1] if more else None)


async def attach_persons(command: AttachPersons, uow: RegistryUnitOfWork) -> None:
    """Identity linked some of our records to persons: keep the person ids and tell the child stream's readers."""
    # The record's version (ETag) stays: the link is identity's fact, not an edit a client's change could lose.
    records = await uow.children.by_sources({(link.source_system, link.source_record_id) for link in command.links})
    if not records:
        return
    cases = await uow.children.cases_of([record.child_id for record in records.values()])
    changed: dict[str, ChildRecord] = {}
    for link in command.links:
        record = records.get((link.source_system, link.source_record_id))
        if record is None:
            continue  # not ours (another registry's record)
        if record.child.holds_link_newer_than(link.linked_at):
            log.debug("skipped a link older than the one held")  # a replayed dead letter: no DLQ
            continue
        held_at = record.child.person_linked_at
        if record.child.link_to_person(link.person_id, link.linked_at):
            changed[record.child_id] = record
            uow.publish(contract_mapping.updated(record.child, cases.get(record.child_id)))
        elif record.child.person_linked_at != held_at:
            changed[record.child_id] = record  # the link we hold, made again later: keep its time, announce nothing
    await uow.children.link_persons(list(changed.values()))
