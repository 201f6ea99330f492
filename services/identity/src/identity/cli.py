"""`simpul identity`: operator commands of the identity service."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from identity.domain.model import MatchModel
    from identity.service_layer.handlers.relink import RelinkReport

UNUSABLE_INPUT = 2
UNUSABLE_MODEL = 3
DATABASE_FAILED = 3
OUTPUT_FAILED = 4

identity_app = typer.Typer(help="Identity: one pseudonymous person per child.", no_args_is_help=True)


# The callback keeps `identity` a group (`identity dedupe ...`) while it has a single command.
@identity_app.callback()
def identity() -> None:
    """Identity: one pseudonymous person per child."""


@identity_app.command()
def dedupe(
    input_file: Annotated[
        Path,
        typer.Option(
            "--input",
            help="CSV: record_id,source,full_name,sex,birth_date,"
            "birth_date_precision,nik,kk_number,mother_name,village_code",
        ),
    ],
    output_file: Annotated[Path, typer.Option("--output", help="CSV written: record_id,person_id[,score,decision]")],
    scores: Annotated[bool, typer.Option("--scores/--no-scores", help="Add the score and decision columns")] = True,
    model: Annotated[
        Path | None,
        typer.Option(
            help="Match parameters (JSON): used if the file exists, else estimated from the input (the shipped "
            "default model while the input holds too few sure pairs to settle them) and stored there"
        ),
    ] = None,
) -> None:
    """Group source records into persons, one person per child, and write every record's person.

    Decisions: `linked` (joined to other records above the auto-link threshold), `review` (a candidate in the
    review band stayed apart: a person should look), `new` (no likely candidate).

    Exit status: 0 written (unusable values are read as empty and counted on stderr), 2 unusable input file
    (wrong header, duplicate or empty record_id, not UTF-8), 3 unusable model file, 4 output not writable.
    """
    # Imported here, not at the top: `simpul` mounts this app, and numpy and rapidfuzz would slow every command.
    from identity.domain.model import MatchModel  # noqa: PLC0415
    from identity.service_layer.dedupe import UnusableInput, dedupe_records, read_records, write_clusters  # noqa: PLC0415

    started = time.perf_counter()
    try:
        read = read_records(input_file)
    except UnusableInput as error:
        _fail(f"{error}; nothing written", UNUSABLE_INPUT)
    except OSError as error:
        _fail(f"{input_file}: {error.strerror or error}; nothing written", UNUSABLE_INPUT)
    for column, count in sorted(read.unusable_values.items()):
        typer.echo(f"warning: {count} unusable {column} value(s) read as empty", err=True)
    given = None
    if model is not None and model.exists():
        try:
            given = MatchModel.from_json(model.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError) as error:
            _fail(f"{model}: not a usable model ({error}); nothing written", UNUSABLE_MODEL)
    result = dedupe_records(read.records, model=given, progress=_Progress())
    try:
        write_clusters(result, output_file, with_scores=scores)
        if model is not None and given is None:
            model.write_text(result.model.to_json(), encoding="utf-8")
    except OSError as error:
        _fail(f"{error.filename or output_file}: {error.strerror or error}", OUTPUT_FAILED)
    persons = len(set(result.person_of.values()))
    typer.echo(
        f"identity: {len(read.records)} records, {persons} persons, {result.candidate_pairs} pairs compared, "
        f"{time.perf_counter() - started:.1f} s",
        err=True,
    )


@identity_app.command()
def estimate(
    model: Annotated[Path, typer.Option(help="Where to write the match parameters (JSON); the service reads them "
                                             "from IDENTITY_MATCH_MODEL_PATH at its next start")],
    database_url: Annotated[str | None, typer.Option(
        help="Identity database (default: IDENTITY_DATABASE_URL, else the local SQLite file)")] = None,
) -> None:
    """Estimate the match parameters from the records the identity service holds, for its real-time matching.

    The same estimation as `dedupe` (m and u from pairs the data settles: shared and conflicting own NIKs, random
    pairs), over every stored record. Run it when the records have grown or changed (a new district, a big
    import), then restart the service. Exit status: 0 written, 3 database failure, 4 model not writable.
    """
    import asyncio  # noqa: PLC0415

    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    started = time.perf_counter()
    try:
        estimated, records = asyncio.run(_estimate(database_url))
    except (OSError, SQLAlchemyError) as error:
        _fail(f"database: {str(error).splitlines()[0]}; nothing written", DATABASE_FAILED)
    if estimated is None:
        _fail("the database holds no source records yet; nothing written", DATABASE_FAILED)
    try:
        model.write_text(estimated.to_json(), encoding="utf-8")
    except OSError as error:
        _fail(f"{model}: {error.strerror or error}", OUTPUT_FAILED)
    typer.echo(f"identity: parameters of {records} records written to {model} "
               f"({time.perf_counter() - started:.1f} s)", err=True)


@identity_app.command()
def relink(
    database_url: Annotated[str | None, typer.Option(
        help="Identity database (default: IDENTITY_DATABASE_URL, else the local SQLite file)")] = None,
    batch: Annotated[int, typer.Option(min=1, help="Records per transaction")] = 200,
) -> None:
    """Re-evaluate every automatic link under the model in force (IDENTITY_MATCH_MODEL_PATH and the thresholds, as
    the service reads them) and announce each correction as `record linked`, so registry, referral and reporting
    follow (sent by the running service's relay). Reviewers' decisions stay: a verified link or merge is never moved,
    a verified non-link never crossed. Run it after changing the model; a second run changes nothing.

    Exit status: 0 done, 3 database failure.
    """
    import asyncio  # noqa: PLC0415

    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    started = time.perf_counter()
    try:
        report = asyncio.run(_relink(database_url, batch))
    except (OSError, SQLAlchemyError) as error:
        _fail(f"database: {str(error).splitlines()[0]}", DATABASE_FAILED)
    settled = "" if report.settled else f"; not settled after {report.passes} passes, run it again"
    typer.echo(f"identity: relinked {report.records} records in {report.passes} pass(es): {report.moved} moved, "
               f"{report.announced} events ({time.perf_counter() - started:.1f} s){settled}", err=True)


async def _relink(database_url: str | None, batch: int) -> RelinkReport:
    from identity.bootstrap import command_line  # noqa: PLC0415
    from identity.service_layer.handlers.relink import relink  # noqa: PLC0415

    def progress(number: int, done: int, total: int) -> None:
        print(f"identity: relink pass {number}: {done}/{total} records", file=sys.stderr, flush=True)

    async with command_line(database_url) as wiring:
        about = wiring.model.identity()
        print(f"identity: relinking under {about.name} {about.version} ({about.checksum}), auto-link "
              f"{wiring.thresholds.auto_link}, review {wiring.thresholds.review}", file=sys.stderr, flush=True)
        return await relink(wiring.unit_of_work, batch=batch, progress=progress)


async def _estimate(database_url: str | None) -> tuple[MatchModel | None, int]:
    from identity.bootstrap import command_line  # noqa: PLC0415
    from identity.domain.commands import EstimateMatchModel  # noqa: PLC0415
    from identity.service_layer.handlers.estimate import estimate_match_model  # noqa: PLC0415
    from simpul_platform.unit_of_work import execute  # noqa: PLC0415

    async with command_line(database_url) as wiring:
        estimate = await execute(wiring.unit_of_work(), estimate_match_model, EstimateMatchModel(_Progress()))
    return estimate.model, estimate.records


class _Progress:
    """A line on stderr per stage and about every 10 % of the comparisons."""

    def __init__(self) -> None:
        self._last_tenth = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        tenth = 10 * done // max(total, 1)
        if stage != "comparing":
            print(f"identity: {stage} done", file=sys.stderr, flush=True)
        elif tenth != self._last_tenth:
            self._last_tenth = tenth
            bar = "#" * tenth + "." * (10 - tenth)
            print(f"identity: comparing [{bar}] {done}/{total} pairs", file=sys.stderr, flush=True)


def _fail(message: str, status: int) -> NoReturn:
    typer.echo(f"identity: {message}", err=True)
    raise typer.Exit(status)
