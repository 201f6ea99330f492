"""Erasure of a child's identifying data (UU 27/2022): what goes, what stays so the counts stay right.

Goes: the names (full name, aliases, mother's name), NIK and its blind index, KK number, the guardians (names,
relationships, phones), the identity warnings (they quote what was wrong with the numbers), the work tasks, the
day and month of birth, and every free text of the case (reasons of status and classification changes, visit notes
and work activities), which can name people. Stays, pseudonymous: the child id, sex, village, birth year (age
bands), registration time, the source record id (an id, not a person), the person id, the case with its statuses,
classifications and dates, the visits' coded findings, the consent decisions. The record is then frozen: no later
change, so nothing identifying comes back through it.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import replace

from registry.domain.case import Case
from registry.domain.errors import RegistryConflict
from registry.domain.model import DatePrecision
from registry.domain.record import ChildRecord

ERASED_TEXT = "(erased)"  # replaces a free text the domain requires to be non-empty (a change's reason)


class ErasureReason(enum.StrEnum):
    """Why the data was erased, as a code: what the published event says (the officer's words stay audited)."""

    DATA_SUBJECT_REQUEST = "data_subject_request"
    RECORDED_IN_ERROR = "recorded_in_error"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    LEGAL_ORDER = "legal_order"
    RETENTION_ENDED = "retention_ended"


class ChildErased(RegistryConflict):
    """The child's identifying data was erased: the record takes no change any more (409)."""

    title = "Child erased"

    def __init__(self) -> None:
        super().__init__("child_id", "this child's identifying data was erased; the record can no longer change")


def refuse_if_erased(record: ChildRecord) -> None:
    """ChildErased when the record was erased."""
    if record.erased_at is not None:
        raise ChildErased


def erase(record: ChildRecord, at: dt.datetime) -> None:
    """Blank what identifies the child; keep what counts need (see the module's docstring)."""
    refuse_if_erased(record)
    child = record.child
    child.full_name, child.mother_name = "", None
    if child.birth_date is not None:
        child.birth_date, child.birth_date_precision = child.birth_date.replace(month=1, day=1), DatePrecision.YEAR
    record.aliases, record.guardians, record.identity_warnings = [], [], []
    record.nik = record.nik_index = record.kk_number = None
    record.source_digest = None  # a digest of the survey row: of its names and numbers
    if record.work is not None:
        record.work = replace(record.work, tasks="")
    record.updated_at = record.erased_at = at


def erased_case(case: Case) -> Case:
    """The case with its free texts replaced: change reasons, visit notes and work activities (what SQL stores)."""
    case.status_history = [replace(change, reason=ERASED_TEXT) for change in case.status_history]
    case.classification_history = [replace(change, reason=ERASED_TEXT) for change in case.classification_history]
    case.visits = [replace(visit, notes=_erased(visit.notes), work_activities=_erased(visit.work_activities))
                   for visit in case.visits]
    return case


def _erased(text: str) -> str:
    return ERASED_TEXT if text else ""
