"""`simpul contracts`: generate snapshots, check them, record released revisions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simpul_contracts import catalogue, compatibility, readme, snapshots
from simpul_contracts.layout import CONTRACTS_ROOT, Layout

app = typer.Typer(
    help="Event contracts: JSON Schema snapshots and their compatibility with released revisions.",
    no_args_is_help=True,
)
Root = Annotated[Path, typer.Option("--root", help="The contracts directory.", file_okay=False)]
GENERATE_HINT = "run `simpul contracts generate` and commit the result"


@app.command()
def generate(root: Root = CONTRACTS_ROOT) -> None:
    """Write the JSON Schema snapshots and the README event table from the models."""
    layout = Layout(root)
    expected = snapshots.expected()
    for name in snapshots.write_all(layout.schemas):
        typer.echo(f"{'wrote' if name in expected else 'removed'} schemas/{name}")
    if layout.readme.exists() and readme.update(layout.readme, layout.topics):
        typer.echo("updated the README event table")


def problems(layout: Layout) -> list[str]:
    """Everything `check` fails on: drift, README table, catalogue faults, incompatibilities."""
    found = [f"snapshot drift: schemas/{name} ({GENERATE_HINT})" for name in snapshots.drift(layout.schemas)]
    found += _readme_problems(layout)
    found += catalogue.lint(layout.topics)
    return found + compatibility.verify(layout)


def _readme_problems(layout: Layout) -> list[str]:
    if not layout.readme.exists():
        return ["README.md is missing"]
    try:
        return [f"README event table is stale ({GENERATE_HINT})"] if readme.stale(layout.readme, layout.topics) else []
    except ValueError as exc:
        return [f"README.md: {exc}"]


@app.command()
def check(root: Root = CONTRACTS_ROOT) -> None:
    """Exit 1 listing snapshot drift, catalogue faults and incompatibilities with released revisions."""
    layout = Layout(root)
    found = problems(layout)
    for problem in found:
        typer.echo(problem, err=True)
    if found:
        raise typer.Exit(1)
    count = len(compatibility.snapshot_types(layout.schemas))
    typer.echo(f"contracts OK: {count} event types, snapshots current, compatible with every released revision")


@app.command()
def release(root: Root = CONTRACTS_ROOT) -> None:
    """Record each changed snapshot as the next released revision of its event type."""
    layout = Layout(root)
    stale = snapshots.drift(layout.schemas)
    if stale:
        typer.echo(f"snapshots out of date ({GENERATE_HINT} first): {', '.join(stale)}", err=True)
        raise typer.Exit(1)
    try:
        recorded = compatibility.release_all(layout)
    except compatibility.IncompatibleChange as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        typer.echo("nothing released: make the change a new major version instead", err=True)
        raise typer.Exit(1) from None
    for event_type, number in recorded.items():
        typer.echo(f"released {event_type} revision {number}")
    if not recorded:
        typer.echo("nothing to release: every snapshot equals its latest released revision")


if __name__ == "__main__":
    app()
