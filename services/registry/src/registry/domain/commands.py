"""Commands: what a caller asks the registry to do, as frozen values. The HTTP routes, the consumer and the
command line build them; one handler takes each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from registry.domain.case_lifecycle import CaseStatus, Classification, ClosureReason
from registry.domain.consent import ConsentDecision, ConsentPurpose
from registry.domain.details import ChildChanges, ChildDetails
from registry.domain.erasure import ErasureReason
from registry.domain.record import ChildSearch
from registry.domain.regions import ListedRow
from registry.domain.visits import MonitoringVisit
from simpul_platform.callers import Caller


@dataclass(frozen=True)
class Classify:
    """Classify a child (opening the case) or reclassify, with a reason; `at` defaults to now."""

    classification: Classification
    reason: str
    at: dt.datetime | None = None


@dataclass(frozen=True)
class RegisterChild:
    """Register a child, and open its case when classified; the access is audited with `reason`."""

    by: Caller
    details: ChildDetails
    source_record_id: str | None = None
    classify: Classify | None = None
    reason: str | None = None


@dataclass(frozen=True)
class UpdateChild:
    """Change a child's details if nobody changed them since `read_version`."""

    by: Caller
    child_id: str
    read_version: int
    changes: ChildChanges
    source_digest: str | None = None  # the survey row the changes came from, when imported


@dataclass(frozen=True)
class EraseChild:
    """Erase a child's identifying data everywhere (district officers only); `reason` is audited, `code` published."""

    by: Caller
    child_id: str
    reason: str
    code: ErasureReason
    at: dt.datetime


@dataclass(frozen=True)
class ReadChild:
    """Read one child (audited as `action`, with the caller's reason)."""

    by: Caller
    child_id: str
    action: str = "read"
    reason: str | None = None


@dataclass(frozen=True)
class SearchChildren:
    """Search the children in the caller's scope (every result audited)."""

    by: Caller
    search: ChildSearch
    reason: str | None = None


@dataclass(frozen=True)
class ClassifyChild:
    """Open the child's case with a classification, or change the classification of the open case."""

    by: Caller
    child_id: str
    classify: Classify


@dataclass(frozen=True)
class ChangeStatus:
    """Move a case to a status, with why; closure_reason when closing; at defaults to now."""

    by: Caller
    child_id: str
    status: CaseStatus
    reason: str
    closure_reason: ClosureReason | None = None
    at: dt.datetime | None = None


@dataclass(frozen=True)
class RecordVisit:
    """Record a monitoring visit on the child's open case."""

    by: Caller
    child_id: str
    visit: MonitoringVisit


@dataclass(frozen=True)
class RecordConsent:
    """Record a guardian's decision for one purpose."""

    by: Caller
    child_id: str
    purpose: ConsentPurpose
    decision: ConsentDecision
    decided_on: dt.date


@dataclass(frozen=True)
class ReadCase:
    """Read the child's case (audited as `action`): its visits or its history."""

    by: Caller
    child_id: str
    action: str
    reason: str | None = None


@dataclass(frozen=True)
class ReadConsent:
    """Read a child's guardian consent (audited)."""

    by: Caller
    child_id: str
    reason: str | None = None


@dataclass(frozen=True)
class PersonLink:
    """Identity's answer for one of our records: the person it belongs to."""

    source_system: str
    source_record_id: str
    person_id: str
    linked_at: dt.datetime | None = None


@dataclass(frozen=True)
class AttachPersons:
    """Keep identity's person ids for our records, in the order identity linked them."""

    links: tuple[PersonLink, ...]


@dataclass(frozen=True)
class ImportRegions:
    """Create, rename, retire and un-retire regions from an official list."""

    rows: Sequence[ListedRow]
    now: dt.datetime | None = None
    progress: Callable[[int, int], None] | None = None


@dataclass(frozen=True)
class ListProvinces:
    """Every province code of the reference data (the command line's default scope)."""
