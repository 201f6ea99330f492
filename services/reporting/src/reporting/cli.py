"""`simpul reporting`: operator commands of the reporting service."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from reporting.service_layer.rebuild import RebuildReport

DIFFERENT = 1
BAR = 30

reporting_app = typer.Typer(help="Reporting: indicators kept from events.", no_args_is_help=True)


@reporting_app.callback()
def reporting() -> None:
    """Reporting: indicators kept from events."""


@reporting_app.command()
def rebuild(
    database_url: Annotated[str | None, typer.Option(help="Reporting's database (default: REPORTING_DATABASE_URL)")]
    = None,
) -> None:
    """Replay every consumed topic from the beginning into fresh tables, compare them with what the live consumers
    hold, and swap them in only when identical.

    Exit status: 0 identical and swapped in, 1 different (the live tables are kept; the rebuilt ones stay, named
    rebuild_*, for inspection). Run it while the topics are quiet: events applied meanwhile show as differences.
    """
    started = time.perf_counter()
    report = asyncio.run(_rebuild(database_url))
    took = time.perf_counter() - started
    replayed = ", ".join(f"{topic} {count}" for topic, count in report.replayed.items())
    typer.echo(f"reporting: replayed {replayed}; {report.skipped} undecodable or unknown skipped ({took:.1f} s)",
               err=True)
    if not report.swapped:
        different = ", ".join(f"{table} {n}" for table, n in report.differences.items() if n)
        typer.echo(f"reporting: the rebuild differs from the live tables (rows: {different}); nothing swapped",
                   err=True)
        raise typer.Exit(DIFFERENT)
    typer.echo("reporting: the rebuild equals the live tables; swapped in", err=True)


def progress(topic: str, done: int, total: int) -> None:
    """A progress bar per topic on stderr."""
    filled = BAR * done // total if total else BAR
    sys.stderr.write(f"\r{topic:<40} [{'#' * filled}{'.' * (BAR - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


async def _rebuild(database_url: str | None) -> RebuildReport:
    from reporting.bootstrap import wire  # noqa: PLC0415
    from reporting.config import ReportingSettings  # noqa: PLC0415
    from reporting.service_layer.rebuild import Source  # noqa: PLC0415
    from reporting.service_layer.rebuild import rebuild as replay  # noqa: PLC0415
    from simpul_platform.topic_reader import read_topic  # noqa: PLC0415

    settings = ReportingSettings() if database_url is None else ReportingSettings(database_url=database_url)
    wiring = wire(settings)
    sources = [Source(c.topic, c.inbox, c.handlers) for c in wiring.runtime.consumers]  # what the service consumes
    try:
        return await replay(wiring.runtime.database, wiring.runtime.tables, sources,
                            lambda topic: read_topic(settings.kafka_bootstrap_servers, topic), progress,
                            batch_size=settings.consumer_batch_size)
    finally:
        await wiring.runtime.database.dispose()
