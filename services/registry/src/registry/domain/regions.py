"""Kemendagri regions: codes are hierarchical (PP.RR.SS.VVVV) and the level follows from the code.

Importing an official `code,name` list is diffed here against what the database holds, so the rules are pure:
- each row is checked alone (code, name, field count), then for duplicates (the first occurrence of a code
  wins) and for a known parent (loaded from the same file, or a current region in the database);
- a region new to the database is created; a retired one that is listed again is un-retired as a new version;
  a listed name that differs is a rename (a new version); anything else is unchanged;
- retiring follows from absence, but only where the list claims completeness: beneath a district (kabupaten /
  kota) whose own row the file carries. Importing one district's list therefore never retires another's
  regions; a file without district rows only adds and renames; provinces and districts are never retired by an
  import; and a code that appears in the file at all (even on a rejected row), or an ancestor of one, is kept.
"""

from __future__ import annotations

import csv
import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

CODE = re.compile(r"\d{2}(\.\d{2}(\.\d{2}(\.[12]\d{3})?)?)?")
HEADER = ("code", "name")
MAX_NAME_LENGTH = 200  # the width of regions.name


class Level(enum.StrEnum):
    """Administrative level of a region."""

    PROVINSI = "provinsi"
    KABUPATEN = "kabupaten"
    KECAMATAN = "kecamatan"
    DESA = "desa"
    KELURAHAN = "kelurahan"


class InvalidRegionCode(ValueError):
    """A code that is not of the form PP, PP.RR, PP.RR.SS or PP.RR.SS.VVVV (VVVV starting with 1 or 2)."""


class UnusableRegionList(ValueError):
    """Input that cannot be read as a `code,name` list at all: nothing of it is imported."""


@dataclass(frozen=True)
class Region:
    """One region of the official list."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    aliases: tuple[str, ...] = ()

    @classmethod
    def from_code(cls, code: str, name: str, aliases: tuple[str, ...] = ()) -> Region:
        """Infer level and parent from the code."""
        code = code.strip()
        if not CODE.fullmatch(code):
            raise InvalidRegionCode(f"code: {code!r} is not a Kemendagri region code")
        parts = code.split(".")
        return cls(code, name.strip(), level_of(parts), ".".join(parts[:-1]) or None, aliases)

    @property
    def is_village(self) -> bool:
        """Desa or kelurahan."""
        return self.level in (Level.DESA, Level.KELURAHAN)


def level_of(parts: list[str]) -> Level:
    """The level of a code split at its dots; a village's fourth part starts with 1 (kelurahan) or 2 (desa)."""
    if len(parts) == 4:
        return Level.KELURAHAN if parts[3].startswith("1") else Level.DESA
    return (Level.PROVINSI, Level.KABUPATEN, Level.KECAMATAN)[len(parts) - 1]


def ancestors(code: str) -> list[str]:
    """The codes above `code`, nearest first: 35.09.11.2007 -> 35.09.11, 35.09, 35."""
    parts = code.split(".")
    return [".".join(parts[:end]) for end in range(len(parts) - 1, 0, -1)]


def district_of(code: str) -> str | None:
    """The kabupaten / kota a sub-district or village belongs to; None for provinces and districts themselves."""
    parts = code.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else None


@dataclass(frozen=True)
class ListedRow:
    """One data row of an official list; `row` counts the header as row 1, as a spreadsheet shows it."""

    row: int
    code: str
    name: str
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowError:
    """Why one row was rejected: the field at fault and the reason."""

    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"


@dataclass(frozen=True)
class StoredRegion:
    """What the database holds for a code: its current name and version, and whether it is retired."""

    code: str
    name: str
    version: int
    retired: bool


@dataclass(frozen=True)
class Revision:
    """A region's next version: a new name, or its return after retirement."""

    region: Region
    version: int


@dataclass
class ImportPlan:
    """What an import changes, and the rows it rejects."""

    created: list[Region] = field(default_factory=list)
    renamed: list[Revision] = field(default_factory=list)
    unretired: list[Revision] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The summary; `errors` counts rejected rows (a row may have several errors)."""
        return {"created": len(self.created), "renamed": len(self.renamed), "retired": len(self.retired),
                "unretired": len(self.unretired), "unchanged": len(self.unchanged),
                "errors": len({error.row for error in self.errors})}

    @property
    def changes(self) -> int:
        """How many regions the import writes."""
        return len(self.created) + len(self.renamed) + len(self.unretired) + len(self.retired)


def read_region_list(lines: Iterable[str]) -> list[ListedRow]:
    """The rows of a `code,name` CSV; a missing or different header makes the whole list unusable."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or tuple(cell.strip().lower() for cell in header) != HEADER:
        found = ",".join(header) if header else "nothing"
        raise UnusableRegionList(f"header: expected 'code,name', found {found!r}")
    rows = [_listed(number, cells) for number, cells in enumerate(reader, start=2) if any(c.strip() for c in cells)]
    if not rows:
        raise UnusableRegionList("file: no regions below the header")
    return rows


def _listed(number: int, cells: list[str]) -> ListedRow:
    code, name, *extra = [*(cell.strip() for cell in cells), "", ""][: max(len(cells), 2)]
    return ListedRow(number, code, name, tuple(cell for cell in extra if cell))  # spreadsheets add empty cells


def row_errors(row: ListedRow) -> list[RowError]:
    """What is wrong with one row taken alone."""
    errors = []
    if row.extra:
        errors.append(RowError(row.row, "row", "more fields than code,name (quote a name that has a comma)"))
    if not CODE.fullmatch(row.code):
        errors.append(RowError(row.row, "code", f"{row.code!r} is not a Kemendagri code "
                                                "(PP, PP.RR, PP.RR.SS or PP.RR.SS.VVVV, VVVV starting 1 or 2)"))
    if not row.name:
        errors.append(RowError(row.row, "name", "empty"))
    elif len(row.name) > MAX_NAME_LENGTH:
        errors.append(RowError(row.row, "name", f"longer than {MAX_NAME_LENGTH} characters"))
    return errors


def check_rows(rows: Sequence[ListedRow]) -> tuple[list[tuple[int, Region]], list[RowError]]:
    """Regions of the well-formed rows (first occurrence of a code wins), and the errors of the others."""
    valid: dict[str, tuple[int, Region]] = {}
    errors: list[RowError] = []
    for row in rows:
        problems = row_errors(row)
        if not problems and row.code in valid:
            problems = [RowError(row.row, "code", f"{row.code} is already on row {valid[row.code][0]}")]
        errors.extend(problems)
        if not problems:
            valid[row.code] = (row.row, Region.from_code(row.code, row.name))
    return list(valid.values()), errors


def plan_import(rows: Sequence[ListedRow], stored: Mapping[str, StoredRegion]) -> ImportPlan:
    """Diff an official list against the stored regions (at least those of the list's provinces)."""
    valid, errors = check_rows(rows)
    accepted, orphans = _with_known_parents(valid, stored)
    plan = ImportPlan(errors=sorted(errors + orphans, key=lambda error: error.row))
    for region in sorted(accepted.values(), key=lambda r: r.code):
        _classify(plan, region, stored.get(region.code))
    plan.retired = _to_retire(rows, accepted, stored)
    return plan


def _with_known_parents(
    valid: list[tuple[int, Region]], stored: Mapping[str, StoredRegion]
) -> tuple[dict[str, Region], list[RowError]]:
    # Shallow codes first, so a rejected sub-district takes its villages with it.
    accepted: dict[str, Region] = {}
    orphans: list[RowError] = []
    for number, region in sorted(valid, key=lambda item: len(item[1].code)):
        reason = _parent_problem(region.parent_code, accepted, stored)
        if reason:
            orphans.append(RowError(number, "code", reason))
        else:
            accepted[region.code] = region
    return accepted, orphans


def _parent_problem(parent: str | None, accepted: Mapping[str, Region], stored: Mapping[str, StoredRegion]) -> str:
    if parent is None or parent in accepted:
        return ""
    known = stored.get(parent)
    if known is None:
        return f"parent {parent} is neither loaded from this file nor in the database"
    return f"parent {parent} is retired and not in this file" if known.retired else ""


def _classify(plan: ImportPlan, region: Region, stored: StoredRegion | None) -> None:
    if stored is None:
        plan.created.append(region)
    elif stored.retired:
        plan.unretired.append(Revision(region, stored.version + 1))
    elif stored.name != region.name:
        plan.renamed.append(Revision(region, stored.version + 1))
    else:
        plan.unchanged.append(region.code)


def _to_retire(
    rows: Sequence[ListedRow], accepted: Mapping[str, Region], stored: Mapping[str, StoredRegion]
) -> list[str]:
    covered = {code for code, region in accepted.items() if region.level is Level.KABUPATEN}
    listed = {row.code for row in rows if CODE.fullmatch(row.code)}
    kept = listed.union(*(ancestors(code) for code in listed))
    return sorted(code for code, region in stored.items()
                  if not region.retired and district_of(code) in covered and code not in kept)
