"""The `simpul` command: one entry point, a sub-command per area."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import typer

app = typer.Typer(help="Simpul: SPRPA data exchange. Run `simpul COMMAND --help` for details.", no_args_is_help=True)


@app.command()
def up(
    kafka_port: int = typer.Option(9092, help="Port of the local Kafka broker (the controller uses the next one)"),
    keep_kafka: bool = typer.Option(False, help="Leave Kafka running after Ctrl-C"),
) -> None:
    """Run the whole system locally: Kafka, topics, the four services (SQLite), pilot reference data."""
    from simpul.stack import run

    try:
        run(kafka_port=kafka_port, keep_kafka=keep_kafka)
    except RuntimeError as error:
        typer.echo(f"simpul up: {error}", err=True)
        raise typer.Exit(1) from None


@app.command("api-docs")
def api_docs(check: bool = typer.Option(False, "--check", help="Fail if the committed documents are stale")) -> None:
    """Generate the AsyncAPI and OpenAPI documents of every service into contracts/."""
    from simpul import api_documents

    if check:
        stale = api_documents.drift()
        if stale:
            typer.echo("stale API documents (run `simpul api-docs`): " + ", ".join(stale), err=True)
            raise typer.Exit(1)
        typer.echo("API documents are current")
        return
    for path in api_documents.write_all():
        typer.echo(f"wrote contracts/{path}")


# Each group's module is imported only when needed: a service's CLI imports its HTTP stack, and importing all of
# them took ~9 s before any command ran. `simpul identity dedupe ...` loads identity's group alone; help, no
# arguments or anything else loads them all. Name: ("module:attribute", help, or None for the group's own).
GROUPS: dict[str, tuple[str, str | None]] = {
    "infra": ("simpul_infra.cli:app", "Local Kafka, PostgreSQL and topics, without Docker."),
    "contracts": ("simpul_contracts.cli:app", "Event contracts: snapshots, compatibility, releases."),
    "dlq": ("simpul_platform.cli:dlq_app", None),
    "auth": ("simpul_platform.cli:auth_app", None),
    "keys": ("simpul.keys:keys_app", None),
    "regions": ("registry.cli:regions_app", "Region reference data: import the official Kemendagri lists."),
    "identity": ("identity.cli:identity_app", "Identity: deduplicate child records into persons."),
    # registry.cli.erasure adds `registry erase` to the survey app it re-exports.
    "registry": ("registry.cli.erasure:registry_app", "Children in bulk: import a survey, write its template."),
    "reporting": ("reporting.cli:reporting_app", "Reporting: rebuild the indicators from the topics."),
}


def groups_needed(argv: Sequence[str]) -> list[str]:
    """The groups a command line needs: the one it names first, else every group (help, completion, tests)."""
    first = next((word for word in argv[1:] if not word.startswith("-")), None)
    return [first] if first in GROUPS else list(GROUPS)


def _mount(names: Sequence[str]) -> None:
    for name in names:
        target, help_text = GROUPS[name]
        module, attribute = target.split(":")
        group = getattr(importlib.import_module(module), attribute)
        if help_text is None:
            app.add_typer(group, name=name)
        else:
            app.add_typer(group, name=name, help=help_text)


_mount(groups_needed(sys.argv))
