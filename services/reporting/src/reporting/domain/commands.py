"""What reporting is asked to do: remember links from identity, count registered children."""

from __future__ import annotations

from dataclasses import dataclass

from reporting.domain.model import RecordPerson, Scope


@dataclass(frozen=True)
class RememberRecordPersons:
    """Keep which person each source record belongs to (one run of identity's link events, in order)."""

    links: tuple[RecordPerson, ...]


@dataclass(frozen=True)
class CountRegisteredChildren:
    """Distinct persons per village inside the reader's scope, small cells suppressed."""

    scope: Scope
    min_cell_size: int
