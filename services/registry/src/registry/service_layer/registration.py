"""What registering and changing a child share: scope, the village, identity numbers and the events to publish."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from registry.adapters import contract_mapping
from registry.adapters.repository import ChildrenRepository
from registry.domain.case import Case, new_case_id
from registry.domain.commands import Classify
from registry.domain.details import ChildChanges, ChildDetails
from registry.domain.erasure import refuse_if_erased
from registry.domain.errors import ChildNotFound, OutsideScope, UnknownVillage
from registry.domain.identity_numbers import nik_consistency, parse_kk, parse_nik
from registry.domain.model import Child, new_child_id
from registry.domain.record import ChildRecord
from registry.service_layer.unit_of_work import RegistryRules
from simpul_contracts import Event
from simpul_platform.callers import Caller
from simpul_platform.field_encryption import blind_index


class RegionLookup(Protocol):
    """The region questions a registration asks."""

    async def is_current_village(self, code: str) -> bool:
        """True for a village of the reference data that is not retired."""
        ...

    async def is_known_kecamatan(self, code: str) -> bool:
        """True for a kecamatan of the reference data, retired ones included."""
        ...


@dataclass(frozen=True)
class RegionsInMemory:
    """Current villages and every kecamatan, read once: right for thousands of registrations in a row."""

    villages: frozenset[str]
    kecamatan: frozenset[str]

    async def is_current_village(self, code: str) -> bool:
        """True for a village of the reference data that is not retired."""
        return code in self.villages

    async def is_known_kecamatan(self, code: str) -> bool:
        """True for a kecamatan of the reference data, retired ones included."""
        return code in self.kecamatan


@dataclass(frozen=True)
class Registration:
    """A new child, its case when classified, and the events announcing them: ready to store."""

    record: ChildRecord
    case: Case | None
    events: tuple[Event, ...]


async def prepare_registration(rules: RegistryRules, by: Caller, regions: RegionLookup, details: ChildDetails, *,
                               source_record_id: str | None, classify: Classify | None) -> Registration:
    """Check a new child's details and build its record, case and events; RegistryError names what is wrong."""
    child_id = new_child_id()
    now = dt.datetime.now(dt.UTC)
    full_name, sex, village_code = details.required()
    child = Child(child_id, full_name, sex, village_code, rules.source_system, source_record_id or child_id, now)
    record = ChildRecord(child, updated_at=now)
    await apply_changes(regions, rules, by, record, details)
    case = None
    if classify is not None:
        case = Case.identify(case_id=new_case_id(), child_id=child_id, classification=classify.classification,
                             by=by.subject, at=classify.at or now, reason=classify.reason,
                             closure_rule=rules.closure_rule)
    events = (contract_mapping.identity_recorded(record), contract_mapping.registered(child, case),
              *(contract_mapping.case_events(child, case) if case else []))
    return Registration(record, case, events)


async def child_in_scope(children: ChildrenRepository, by: Caller, child_id: str) -> ChildRecord:
    """The child when the caller's scope covers its village; ChildNotFound otherwise."""
    record = await children.get(child_id)
    if record is None or not by.covers_region(record.child.village_code):
        raise ChildNotFound
    return record


async def child_to_change(children: ChildrenRepository, by: Caller, child_id: str) -> ChildRecord:
    """The child in the caller's scope, when its record can still change (ChildErased after an erasure)."""
    record = await child_in_scope(children, by, child_id)
    refuse_if_erased(record)
    return record


async def apply_changes(regions: RegionLookup, rules: RegistryRules, by: Caller, record: ChildRecord,
                        changes: ChildChanges) -> None:
    """Take the changes into the record: the village checked against the caller's scope, NIK and KK checked."""
    if changes.changes("village_code"):
        assert changes.village_code is not None
        await _move_to(regions, by, record.child, changes.village_code)
    record.apply(changes)
    await _check_identity_numbers(regions, rules, record)


async def _move_to(regions: RegionLookup, by: Caller, child: Child, village_code: str) -> None:
    if not by.covers_region(village_code):
        raise OutsideScope
    if not await regions.is_current_village(village_code):
        raise UnknownVillage
    child.village_code = village_code


async def _check_identity_numbers(regions: RegionLookup, rules: RegistryRules, record: ChildRecord) -> None:
    child = record.child
    record.nik_index, record.identity_warnings = None, []
    if record.nik:
        known = await regions.is_known_kecamatan(_region_prefix(record.nik))
        nik = parse_nik(record.nik, lambda _code: known)
        record.nik, record.nik_index = nik.value, blind_index(nik.value, rules.blind_index_key)
        record.identity_warnings = nik_consistency(nik, child.sex, child.birth_date, child.birth_date_precision,
                                                   as_of=child.registered_at.date())
    if record.kk_number:
        known = await regions.is_known_kecamatan(_region_prefix(record.kk_number))
        record.kk_number = parse_kk(record.kk_number, lambda _code: known).value


def _region_prefix(number: str) -> str:
    digits = number.strip()
    return f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}"
