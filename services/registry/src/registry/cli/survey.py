"""`simpul registry`: import a cadre's survey (CSV or XLSX) and write its template."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from registry.cli import DATABASE_FAILED, SOME_ROWS_REJECTED, UNUSABLE_INPUT, fail
from registry.entrypoints.survey import UnusableSurvey, checked_rows, file_digest, read_survey, template_csv

if TYPE_CHECKING:
    from registry.domain.survey import ImportReport

registry_app = typer.Typer(help="Children in bulk: import a survey, write its template.", no_args_is_help=True)


@registry_app.command("import")
def import_survey(
    file: Annotated[Path, typer.Argument(help="The survey: .csv (UTF-8, ',' or ';') or .xlsx (first sheet)")],
    *,
    source_system: Annotated[str | None, typer.Option(
        help="Whose record ids source_record_id holds (default: the registry's own, REGISTRY_SOURCE_SYSTEM)")] = None,
    scope: Annotated[list[str] | None, typer.Option(
        help="Region codes the import may register children in, e.g. 35.09 (repeatable; default: every region)")
    ] = None,
    recorded_by: Annotated[str, typer.Option(help="Who the audit log and consent records name")] = "",
    errors: Annotated[Path | None, typer.Option(
        help="Write the per-row errors here as CSV (default: FILE.errors.csv next to the survey)")] = None,
    database_url: Annotated[str | None, typer.Option(
        help="Registry database (default: REGISTRY_DATABASE_URL, else the local SQLite file)")] = None,
) -> None:
    """Register every good row of a survey, keep going past bad ones, and write their errors for fixing.

    Re-importing the same file (or the fixed one) creates no duplicates: a row already registered from the same
    source record id is left alone when unchanged and updated when changed. The column layout is in
    docs/registry-import.md; `simpul registry template` writes a template.

    Exit status: 0 every row imported, 1 some rows rejected (the others imported), 2 unusable file (nothing
    imported), 3 database failure (batches committed before it stay; import again to finish).
    """
    try:
        content = file.read_bytes()
        rows = list(read_survey(file.name, content))
    except OSError as error:
        fail(f"{file}: {error.strerror or error}; nothing imported", UNUSABLE_INPUT)
    except UnusableSurvey as error:
        fail(f"{file}: {error}; nothing imported", UNUSABLE_INPUT)
    subject = f"cli:{recorded_by or getpass.getuser()}"
    try:
        report = asyncio.run(_import(database_url, rows, file.name, file_digest(content), subject=subject,
                                     source_system=source_system, scope=tuple(scope or ())))
    except _DatabaseFailed as failure:
        fail(f"database: {failure}", DATABASE_FAILED)
    errors_file = errors or file.with_name(file.stem + ".errors.csv")
    if report.errors:
        _write_errors(report, errors_file)
        typer.echo(f"{report.rejected} rows rejected: fix them in the survey and import it again "
                   f"(errors in {errors_file})", err=True)
    typer.echo(f"import {report.import_id}: " + ", ".join(f"{k} {v}" for k, v in report.counts().items()))
    raise typer.Exit(SOME_ROWS_REJECTED if report.errors else 0)


@registry_app.command("template")
def template(
    file: Annotated[Path, typer.Argument(help="Where to write it: .xlsx (with a sheet explaining columns) or .csv")],
) -> None:
    """Write an empty survey with the column layout and one example row."""
    from registry.entrypoints.survey import template_xlsx  # noqa: PLC0415  (openpyxl only when asked)

    if file.suffix.lower() == ".xlsx":
        file.write_bytes(template_xlsx())
    else:
        file.write_text(template_csv(), encoding="utf-8")
    typer.echo(f"wrote {file}")


class _DatabaseFailed(Exception):
    """The database could not take a batch; batches before it are committed."""


async def _import(database_url: str | None, rows: list[tuple[int, dict[str, str]]], name: str, sha256: str, *,
                  subject: str, source_system: str | None, scope: tuple[str, ...]) -> ImportReport:
    # Imported here, not at the top: `simpul` mounts this app, and these would slow every `simpul` command.
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    from registry.bootstrap import for_command_line  # noqa: PLC0415  (the composition root, at run time)
    from registry.domain.commands import ListProvinces  # noqa: PLC0415
    from registry.domain.survey import ImportSurvey, SurveyFile  # noqa: PLC0415
    from registry.service_layer.handlers.regions import every_province  # noqa: PLC0415
    from registry.service_layer.handlers.survey import import_survey  # noqa: PLC0415
    from simpul_platform.auth import Principal, Role  # noqa: PLC0415
    from simpul_platform.unit_of_work import execute  # noqa: PLC0415

    checked = checked_rows(rows, today=dt.datetime.now(dt.UTC).date(), in_parallel=True)
    try:
        async with for_command_line(database_url) as wiring:
            if not scope:  # an operator on the registry's own database: every province
                scope = await execute(wiring.unit_of_work(), every_province, ListProvinces())
            command = ImportSurvey(Principal(subject, Role.DISTRICT_OFFICER, scope), checked,
                                   SurveyFile(name, sha256), source_system, progress=_Progress(len(rows)))
            return await import_survey(command, wiring.unit_of_work)
    except (OSError, SQLAlchemyError) as error:
        raise _DatabaseFailed(str(error).splitlines()[0]) from error


class _Progress:
    """A progress bar on stderr when it is a terminal; a line per tenth otherwise (logs, CI)."""

    def __init__(self, total: int) -> None:
        self.total = max(total, 1)
        self.tenths = 0
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int) -> None:
        if self.tty:
            filled = done * 40 // self.total
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (40 - filled)}] {done}/{self.total} rows")
            if done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()
            return
        tenths = done * 10 // self.total
        if tenths > self.tenths:
            self.tenths = tenths
            typer.echo(f"import: {done}/{self.total} rows", err=True)


def _write_errors(report: ImportReport, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "column", "reason"])
        writer.writerows((error.row, error.column, error.reason) for error in report.errors)
