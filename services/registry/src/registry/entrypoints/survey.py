"""The survey file a cadre fills in: its columns, reading it from CSV or XLSX, and checking each row.

Each row is checked with the same rules as `POST /children` (one place for them: `schemas.ChildCreate`), and
every error names the spreadsheet's row and column, never the value, so an error report can be shared.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import io
import multiprocessing
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from registry.domain.commands import Classify
from registry.domain.consent import ConsentDecision, ConsentPurpose
from registry.domain.errors import RegistryError
from registry.domain.survey import RefusedRow, RowError, SurveyEntry
from registry.entrypoints.http import edge
from registry.entrypoints.http.schemas import ChildCreate

MAX_ROWS = 100_000
PARALLEL_FROM = 5_000  # rows from which the command line checks rows in a second process
CHUNK_ROWS = 500
LIST_SEPARATOR = ";"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class SurveyColumn:
    """One column of the survey layout."""

    name: str
    required: bool
    meaning: str
    example: str


COLUMNS = (
    SurveyColumn("source_record_id", True, "Your own id for the row: re-importing it never duplicates the child.",
                 "KSL-2026-0001"),
    SurveyColumn("full_name", True, "Full name as the family gives it.", "Siti Aminah"),
    SurveyColumn("aliases", False, "Nicknames and other spellings, separated by ';'.", "Aminah;Mina"),
    SurveyColumn("sex", True, "male, female or unknown (L and P are read as male and female).", "female"),
    SurveyColumn("birth_date", False, "YYYY-MM-DD, DD/MM/YYYY, YYYY-MM (month known) or YYYY (year known).",
                 "2013-04-17"),
    SurveyColumn("birth_date_precision", False, "day, month, year or estimated; read from birth_date when empty.",
                 "day"),
    SurveyColumn("age_years", False, "Age in years when the birth date is unknown: the birth year is estimated.",
                 ""),
    SurveyColumn("village_code", True, "Kemendagri village code, with or without dots.", "35.09.11.2007"),
    SurveyColumn("mother_name", False, "Mother's name.", "Sulastri"),
    SurveyColumn("nik", False, "The child's NIK, 16 digits (keep the cell as text in a spreadsheet).",
                 ""),
    SurveyColumn("kk_number", False, "Family card (KK) number, 16 digits (as text).", ""),
    SurveyColumn("guardian_name", False, "A guardian's name.", "Sulastri"),
    SurveyColumn("guardian_relationship", False, "That guardian's relationship to the child.", "mother"),
    SurveyColumn("guardian2_name", False, "A second guardian's name.", ""),
    SurveyColumn("guardian2_relationship", False, "The second guardian's relationship to the child.", ""),
    SurveyColumn("school_status", False, "enrolled, dropped_out or never_enrolled.", "dropped_out"),
    SurveyColumn("school_grade", False, "Grade 1 to 12 (last grade reached when dropped out).", "5"),
    SurveyColumn("work_sectors", False, "tobacco, other_agriculture, domestic, fishing, manufacturing, trade, "
                 "other; separated by ';'.", "tobacco"),
    SurveyColumn("work_tasks", False, "What the child does.", "harvesting and stringing leaves"),
    SurveyColumn("work_hours_per_week", False, "Hours of work per week, 0 to 168.", "20"),
    SurveyColumn("work_hazards", False, "Hazard codes separated by ';' (see docs/registry-import.md).",
                 "green_tobacco_sickness;extreme_heat"),
    SurveyColumn("classification", False, "child_labourer or at_risk: opens the child's case.", "child_labourer"),
    SurveyColumn("classification_reason", False, "Why: required with a classification.",
                 "works in tobacco harvest during school hours"),
    SurveyColumn("consent_data_sharing", False, "The guardian's decision on sharing data: given, refused or "
                 "withdrawn.", "given"),
    SurveyColumn("consent_referral", False, "The guardian's decision on referrals to services.", "given"),
    SurveyColumn("consent_decided_on", False, "When the guardian decided: required with either decision.",
                 "2026-11-02"),
)
COLUMN_NAMES = tuple(column.name for column in COLUMNS)
REQUIRED = frozenset(column.name for column in COLUMNS if column.required)

# Where the checks of ChildCreate report a problem, and the column it came from.
_COLUMN_OF = {
    ("guardians", 0, "name"): "guardian_name", ("guardians", 0, "relationship"): "guardian_relationship",
    ("guardians", 1, "name"): "guardian2_name", ("guardians", 1, "relationship"): "guardian2_relationship",
    ("school", "status"): "school_status", ("school", "grade"): "school_grade", ("school",): "school_status",
    ("work", "sectors"): "work_sectors", ("work", "tasks"): "work_tasks",
    ("work", "hours_per_week"): "work_hours_per_week", ("work", "hazards"): "work_hazards",
    ("classification", "classification"): "classification", ("classification", "reason"): "classification_reason",
    ("classification",): "classification",
}
_PATTERN_REASONS = {
    "nik": "must be 16 digits", "kk_number": "must be 16 digits",
    "village_code": "must be a 10-digit Kemendagri village code, such as 35.09.11.2007",
    "source_record_id": "may hold letters, digits and . _ : - only",
}
_SEX = {"l": "male", "p": "female", "laki-laki": "male", "perempuan": "female"}
_NUMERIC_ID = "\x00number"  # a NIK or KK cell Excel holds as a number: it keeps 15 digits and rounds the 16th
_DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class UnusableSurvey(Exception):
    """The file as a whole cannot be read as a survey: nothing was imported."""


def read_survey(name: str, content: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV or XLSX survey as (row number as the spreadsheet shows it, column -> text)."""
    if name.lower().endswith(".xlsx"):
        return _read_xlsx(content)
    try:
        text = content.decode("utf-8-sig")  # spreadsheets often write a byte-order mark
    except UnicodeDecodeError:
        raise UnusableSurvey("not UTF-8 text: save the CSV as UTF-8, or import the .xlsx itself") from None
    return _read_csv(text)


def check_row(row: int, values: dict[str, str], *, today: dt.date) -> SurveyEntry | RefusedRow:
    """A row checked against the layout and the child rules: ready to register, or refused with reasons."""
    errors: list[RowError] = []
    body = _child_body(row, values, today, errors)
    consent, decided_on = _consent(row, values, errors)
    try:
        child = ChildCreate.model_validate(_without_empty(body))
    except ValidationError as invalid:
        errors += [_row_error(row, error) for error in invalid.errors()]
    if errors:
        return RefusedRow(row, tuple(errors))
    try:
        details = edge.details(child)
    except RegistryError as error:  # the domain's invariants, should a row get past the schema's own
        return RefusedRow(row, (RowError(row, error.field, error.reason),))
    classify = child.classification
    return SurveyEntry(
        row=row, source_record_id=values["source_record_id"].strip(), details=details,
        classify=Classify(classify.classification, classify.reason) if classify else None,
        consent=consent, consent_decided_on=decided_on,
        digest=_digest(child, consent, decided_on))


_NO_PHONES: Any = {"guardians": {"__all__": {"phone"}}}


def _digest(child: ChildCreate, consent: tuple[tuple[ConsentPurpose, ConsentDecision], ...],
            decided_on: dt.date | None) -> str:
    # Of the checked values, not the cells: "L" and "male" are the same row. A survey has no phone columns, so
    # guardians' phones (set over HTTP) stay out: rows imported before phones existed keep their digests.
    checked = child.model_dump_json(exclude=_NO_PHONES).encode() + repr((consent, decided_on)).encode()
    return hashlib.sha256(checked).hexdigest()


async def checked_rows(rows: Sequence[tuple[int, dict[str, str]]], *, today: dt.date,
                       in_parallel: bool = False) -> AsyncIterator[SurveyEntry | RefusedRow]:
    """Every row checked, in order. `in_parallel` (the command line, not a service process: it forks) checks a
    big survey in a second process, chunk by chunk, while this one registers what is already checked."""
    if not in_parallel or len(rows) < PARALLEL_FROM:
        for number, values in rows:
            yield check_row(number, values, today=today)
        return
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as checker:
        chunks = [loop.run_in_executor(checker, _check_chunk, rows[start:start + CHUNK_ROWS], today)
                  for start in range(0, len(rows), CHUNK_ROWS)]
        for chunk in chunks:
            for checked in await chunk:
                yield checked


def _check_chunk(rows: Sequence[tuple[int, dict[str, str]]], today: dt.date) -> list[SurveyEntry | RefusedRow]:
    return [check_row(number, values, today=today) for number, values in rows]


def template_csv() -> str:
    """The survey template: the header and one example row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    writer.writerow(column.example for column in COLUMNS)
    return out.getvalue()


def template_xlsx() -> bytes:
    """The survey template as a workbook: text cells for the numbers Excel would round, and a sheet explaining."""
    from openpyxl import Workbook  # noqa: PLC0415  (only the template and .xlsx imports need it)

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    sheet.append(list(COLUMN_NAMES))
    sheet.append([column.example for column in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(14, len(column.name) + 2)
        for cells in sheet[f"{letter}2:{letter}1000"]:
            for cell in cells:
                cell.number_format = "@"  # text: a 16-digit NIK stored as a number loses its last digit
    guide = book.create_sheet("columns")
    guide.append(["column", "required", "meaning"])
    for column in COLUMNS:
        guide.append([column.name, "yes" if column.required else "", column.meaning])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _read_csv(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    first_line = text.split("\n", 1)[0]
    # Excel in an Indonesian locale saves CSV with ';' between fields.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        raise UnusableSurvey("the file is empty")
    return _rows(header, ((reader.line_num, cells) for cells in reader))


def _read_xlsx(content: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook  # noqa: PLC0415
    from openpyxl.utils.exceptions import InvalidFileException  # noqa: PLC0415

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, ValueError, OSError):
        raise UnusableSurvey("not an .xlsx workbook") from None
    except Exception as error:  # zipfile.BadZipFile and friends: a damaged or disguised file
        raise UnusableSurvey(f"not a readable .xlsx workbook ({type(error).__name__})") from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise UnusableSurvey("the first sheet is empty")
    names = [_cell_text(cell).strip().lower() for cell in header]
    numbers_as_text = {index for index, name in enumerate(names) if name in {"nik", "kk_number"}}
    return _rows(names, ((number, [_NUMERIC_ID if index in numbers_as_text and isinstance(cell, int | float)
                                   else _cell_text(cell) for index, cell in enumerate(cells)])
                         for number, cells in enumerate(rows, start=2)))


def _rows(header: list[str], lines: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, dict[str, str]]]:
    names = [name.strip().lower() for name in header]
    missing = [name for name in COLUMN_NAMES if name in REQUIRED and name not in names]
    unknown = [name for name in names if name and name not in COLUMN_NAMES]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if missing or unknown or repeated:
        parts = [f"missing required columns: {', '.join(missing)}" if missing else "",
                 f"unknown columns: {', '.join(unknown[:10])}" if unknown else "",
                 f"columns given twice: {', '.join(repeated)}" if repeated else ""]
        raise UnusableSurvey("; ".join(part for part in parts if part) + " (see the template)")
    return _data_rows(names, lines)


def _data_rows(names: list[str], lines: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, dict[str, str]]]:
    count = 0
    for number, cells in lines:
        if not any(str(cell).strip() for cell in cells):
            continue  # blank lines between blocks of a survey
        count += 1
        if count > MAX_ROWS:
            raise UnusableSurvey(f"more than {MAX_ROWS} rows: split the file")
        values = {name: "" for name in COLUMN_NAMES}
        values |= {name: str(cell) for name, cell in zip(names, cells, strict=False) if name}
        if len(cells) > len(names):
            values["__extra__"] = "yes"
        yield number, values


def _cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _child_body(row: int, values: dict[str, str], today: dt.date, errors: list[RowError]) -> dict[str, Any]:
    text = {name: value.strip() for name, value in values.items()}
    if text.get("__extra__"):
        errors.append(RowError(row, "(row)", "has more cells than the header has columns"))
    body: dict[str, Any] = {name: text[name] or None for name in (
        "source_record_id", "full_name", "mother_name", "nik", "kk_number")}
    for name in ("nik", "kk_number"):
        if text[name] == _NUMERIC_ID:
            errors.append(RowError(row, name, "is stored as a number, which Excel rounds: format the column as text "
                                              "and type the 16 digits again"))
            body[name] = None
    body["sex"] = _SEX.get(text["sex"].lower(), text["sex"].lower()) or None
    village = text["village_code"]
    body["village_code"] = (f"{village[0:2]}.{village[2:4]}.{village[4:6]}.{village[6:]}"
                            if village.isdigit() and len(village) == 10 else village or None)
    body["aliases"] = _list(text["aliases"])
    body |= _birth(row, text, today, errors)
    guardians = [{"name": text[f"{prefix}_name"] or None, "relationship": text[f"{prefix}_relationship"] or None}
                 for prefix in ("guardian", "guardian2") if text[f"{prefix}_name"] or text[f"{prefix}_relationship"]]
    body["guardians"] = guardians or None
    if text["school_status"] or text["school_grade"]:
        body["school"] = {"status": text["school_status"] or None, "grade": text["school_grade"] or None}
    if any(text[name] for name in ("work_sectors", "work_tasks", "work_hours_per_week", "work_hazards")):
        body["work"] = {"sectors": _list(text["work_sectors"]) or [], "tasks": text["work_tasks"],
                        "hours_per_week": text["work_hours_per_week"] or None,
                        "hazards": _list(text["work_hazards"]) or []}
    if text["classification"] or text["classification_reason"]:
        body["classification"] = {"classification": text["classification"] or None,
                                  "reason": text["classification_reason"] or None}
    return body


def _birth(row: int, text: dict[str, str], today: dt.date, errors: list[RowError]) -> dict[str, Any]:
    given, precision, age = text["birth_date"], text["birth_date_precision"].lower(), text["age_years"]
    if not given:
        if not age:
            return {"birth_date_precision": precision or None} if precision else {}
        if not age.isdigit() or int(age) > 18:
            errors.append(RowError(row, "age_years", "must be a whole number of years from 0 to 18"))
            return {}
        return {"birth_date": dt.date(today.year - int(age), 1, 1), "birth_date_precision": "estimated"}
    try:
        date, read_precision = _date(given)
    except ValueError:
        errors.append(RowError(row, "birth_date", "must be a date as YYYY-MM-DD, DD/MM/YYYY, YYYY-MM or YYYY"))
        return {}
    if precision and precision != read_precision and not (precision == "estimated" and read_precision == "year"):
        errors.append(RowError(row, "birth_date_precision", f"says {precision!r} but birth_date gives a "
                                                            f"{read_precision}"[:200]))
    return {"birth_date": date, "birth_date_precision": precision or read_precision}


def _date(value: str) -> tuple[dt.date, str]:
    if match := _DAY_FIRST.match(value):
        day, month, year = (int(part) for part in match.groups())
        return dt.date(year, month, day), "day"
    parts = value.split("-")
    if len(parts) == 3:
        return dt.date.fromisoformat(value), "day"
    if len(parts) == 2 and len(parts[0]) == 4:
        return dt.date(int(parts[0]), int(parts[1]), 1), "month"
    if len(parts) == 1 and len(value) == 4 and value.isdigit():
        return dt.date(int(value), 1, 1), "year"
    raise ValueError(value)


def _consent(row: int, values: dict[str, str], errors: list[RowError]
             ) -> tuple[tuple[tuple[ConsentPurpose, ConsentDecision], ...], dt.date | None]:
    decisions = []
    for purpose, column in ((ConsentPurpose.DATA_SHARING, "consent_data_sharing"),
                            (ConsentPurpose.REFERRAL, "consent_referral")):
        value = values[column].strip().lower()
        if not value:
            continue
        try:
            decisions.append((purpose, ConsentDecision(value)))
        except ValueError:
            errors.append(RowError(row, column, "must be given, refused or withdrawn"))
    decided = values["consent_decided_on"].strip()
    if not decisions:
        return (), None
    try:
        decided_on, precision = _date(decided)
    except ValueError:
        errors.append(RowError(row, "consent_decided_on", "is required with a consent decision, as a date "
                                                          "YYYY-MM-DD or DD/MM/YYYY"))
        return (), None
    if precision != "day" or decided_on > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):
        errors.append(RowError(row, "consent_decided_on", "must be a whole date, not in the future"))
    return tuple(decisions), decided_on


def _without_empty(body: dict[str, Any]) -> dict[str, Any]:
    # An empty cell is a missing field, so a required one is reported as required, not as "not a string".
    # The body nests two levels at most: guardians are a list of dicts, school, work and classification dicts.
    def present(value: Any) -> Any:
        if isinstance(value, dict):
            return {name: item for name, item in value.items() if item is not None}
        if isinstance(value, list):
            return [present(item) for item in value]
        return value

    return {name: present(value) for name, value in body.items() if value is not None}


def _list(value: str) -> list[str] | None:
    items = [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]
    return items or None


def _row_error(row: int, error: Any) -> RowError:
    location = tuple(error["loc"])
    column = _COLUMN_OF.get(location) or _COLUMN_OF.get(location[:2]) or _COLUMN_OF.get(location[:1])
    column = column or (str(location[0]) if location else "(row)")
    if error["type"] == "string_pattern_mismatch" and column in _PATTERN_REASONS:
        return RowError(row, column, _PATTERN_REASONS[column])
    if error["type"] == "missing":
        return RowError(row, column, "is required")
    return RowError(row, column, str(error["msg"]))


def file_digest(content: bytes) -> str:
    """The file's SHA-256, kept with the import's record."""
    return hashlib.sha256(content).hexdigest()
