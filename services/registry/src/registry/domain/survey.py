"""A survey import's rows and report: what each row came to, and why a refused row was refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass, field

from registry.domain.commands import Classify
from registry.domain.consent import ConsentDecision, ConsentPurpose
from registry.domain.details import ChildDetails
from simpul_platform.callers import Caller


@dataclass(frozen=True)
class RowError:
    """Why a row was refused: its row number as the spreadsheet shows it, the column and the reason (no value)."""

    row: int
    column: str
    reason: str


@dataclass(frozen=True)
class SurveyEntry:
    """A row that passed the file's own checks, ready to register."""

    row: int
    source_record_id: str
    details: ChildDetails
    classify: Classify | None
    consent: tuple[tuple[ConsentPurpose, ConsentDecision], ...]
    consent_decided_on: dt.date | None
    digest: str


@dataclass(frozen=True)
class RefusedRow:
    """A row the file's own checks refused, with every reason found."""

    row: int
    errors: tuple[RowError, ...]


@dataclass
class ImportReport:
    """What an import did; `errors` is the per-row report a cadre fixes the file from."""

    import_id: str
    source_system: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Rows refused, however many reasons each had."""
        return len({error.row for error in self.errors})

    def add(self, batch: ImportReport) -> None:
        """Count in what a committed batch did."""
        self.created += batch.created
        self.updated += batch.updated
        self.unchanged += batch.unchanged
        self.errors.extend(batch.errors)

    def counts(self) -> dict[str, int]:
        """The counts, in the order a person reads them."""
        return {"rows": self.rows, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected}


@dataclass(frozen=True)
class SurveyFile:
    """Where the rows came from, for the import's record."""

    name: str
    sha256: str


Rows = Iterable[SurveyEntry | RefusedRow] | AsyncIterable[SurveyEntry | RefusedRow]  # checked, in file order
BATCH_ROWS = 500


@dataclass(frozen=True)
class ImportSurvey:
    """Register every good row of a checked survey, refuse the bad ones with reasons, keep the report."""

    by: Caller
    rows: Rows
    survey: SurveyFile
    source_system: str | None = None  # whose record ids the rows hold; the registry's own when None
    batch_rows: int = BATCH_ROWS
    progress: Callable[[int], None] | None = None  # rows done so far


@dataclass(frozen=True)
class ReadImport:
    """A finished import's report, for the caller who ran it."""

    by: Caller
    import_id: str
