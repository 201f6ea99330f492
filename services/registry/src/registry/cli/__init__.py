"""`simpul regions`: operator commands for the registry's region reference data."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from registry.domain.regions import ImportPlan, ListedRow, UnusableRegionList, read_region_list

SOME_ROWS_REJECTED = 1
UNUSABLE_INPUT = 2
DATABASE_FAILED = 3
PROGRESS_FROM = 5000  # rows or changes; smaller imports finish before a progress line would help

regions_app = typer.Typer(help="Region reference data: import the official Kemendagri lists.", no_args_is_help=True)


# The callback keeps `regions` a group (`regions import FILE`) while it has a single command.
@regions_app.callback()
def regions() -> None:
    """Region reference data: import the official Kemendagri lists."""


class ImportFailed(Exception):
    """The database could not take the import; its transaction was rolled back."""


@regions_app.command("import")
def import_list(
    file: Annotated[Path, typer.Argument(help="CSV with the header code,name (Kemendagri codes)")],
    database_url: Annotated[
        str | None, typer.Option(help="Registry database (default: REGISTRY_DATABASE_URL, else the local SQLite file)")
    ] = None,
) -> None:
    """Load an official code,name list in one transaction: create, rename, retire and un-retire regions.

    Regions are retired only beneath districts whose own row is in the file.

    Exit status: 0 every row loaded, 1 some rows rejected (the others loaded), 2 unusable file, 3 database failure
    (nothing loaded for 2 and 3).
    """
    rows = _read(file)
    if len(rows) >= PROGRESS_FROM:
        typer.echo(f"regions: {len(rows)} rows read, comparing them with the database", err=True)
    try:
        plan = asyncio.run(_import(database_url, rows))
    except ImportFailed as failure:
        fail(f"database: {failure}; nothing imported", DATABASE_FAILED)
    for error in plan.errors:
        typer.echo(str(error), err=True)
    typer.echo(", ".join(f"{name} {count}" for name, count in plan.counts().items()))
    raise typer.Exit(SOME_ROWS_REJECTED if plan.errors else 0)


def _read(file: Path) -> list[ListedRow]:
    try:
        with file.open(encoding="utf-8-sig", newline="") as lines:  # utf-8-sig: spreadsheets often write a BOM
            return read_region_list(lines)
    except UnicodeDecodeError:
        fail(f"{file}: not UTF-8 text; nothing imported", UNUSABLE_INPUT)
    except OSError as error:
        fail(f"{file}: {error.strerror or error}; nothing imported", UNUSABLE_INPUT)
    except UnusableRegionList as error:
        fail(f"{file}: {error}; nothing imported", UNUSABLE_INPUT)


async def _import(database_url: str | None, rows: Sequence[ListedRow]) -> ImportPlan:
    # Imported here, not at the top: `simpul` mounts this app, and SQLAlchemy, Alembic and pydantic-settings
    # would add a second to every `simpul` command.
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    from registry.bootstrap import for_command_line  # noqa: PLC0415  (the composition root, at run time)
    from registry.domain.commands import ImportRegions  # noqa: PLC0415
    from registry.service_layer.handlers.regions import import_regions  # noqa: PLC0415
    from simpul_platform.unit_of_work import execute  # noqa: PLC0415

    try:
        async with for_command_line(database_url) as wiring:
            return await execute(wiring.unit_of_work(), import_regions, ImportRegions(rows, progress=_Progress()))
    except (OSError, SQLAlchemyError) as error:
        raise ImportFailed(str(error).splitlines()[0]) from error


class _Progress:
    """A line on stderr per tenth of a big import written."""

    def __init__(self) -> None:
        self.tenths = 0

    def __call__(self, done: int, total: int) -> None:
        tenths = done * 10 // total
        if total >= PROGRESS_FROM and tenths > self.tenths:
            self.tenths = tenths
            typer.echo(f"regions: {done}/{total} changes written", err=True)


def fail(message: str, status: int) -> NoReturn:
    """Print the error in red on stderr and exit with `status`."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(status)
