"""The `simpul` command: one entry point, a sub-command per area."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

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


def _infra() -> typer.Typer:
    from simpul_infra.cli import app as infra_app

    return infra_app


def _contracts() -> typer.Typer:
    from simpul_contracts.cli import app as contracts_app

    return contracts_app


def _dlq() -> typer.Typer:
    from simpul_platform.cli import dlq_app

    return dlq_app


def _auth() -> typer.Typer:
    from simpul_platform.cli import auth_app

    return auth_app


def _keys() -> typer.Typer:
    from simpul.keys import keys_app

    return keys_app


def _regions() -> typer.Typer:
    from registry.cli import regions_app

    return regions_app


def _identity() -> typer.Typer:
    from identity.cli import identity_app

    return identity_app


def _registry() -> typer.Typer:
    from registry.cli.erasure import ERASE_COMMAND  # noqa: F401 - adds `registry erase` to the survey app
    from registry.cli.survey import registry_app

    return registry_app


def _reporting() -> typer.Typer:
    from reporting.cli import reporting_app

    return reporting_app


# Each group's module is imported only when needed: a service's CLI imports its HTTP stack, and importing all of
# them took ~9 s before any command ran. `simpul identity dedupe ...` loads identity's group alone; help, no
# arguments or anything else loads them all.
GROUPS: dict[str, tuple[Callable[[], typer.Typer], str | None]] = {
    "infra": (_infra, "Local Kafka, PostgreSQL and topics, without Docker."),
    "contracts": (_contracts, "Event contracts: snapshots, compatibility, releases."),
    "dlq": (_dlq, None),
    "auth": (_auth, None),
    "keys": (_keys, None),
    "regions": (_regions, "Region reference data: import the official Kemendagri lists."),
    "identity": (_identity, "Identity: deduplicate child records into persons."),
    "registry": (_registry, "Children in bulk: import a survey, write its template."),
    "reporting": (_reporting, "Reporting: rebuild the indicators from the topics."),
}


def groups_needed(argv: Sequence[str]) -> list[str]:
    """The groups a command line needs: the one it names first, else every group (help, completion, tests)."""
    first = next((word for word in argv[1:] if not word.startswith("-")), None)
    return [first] if first in GROUPS else list(GROUPS)


def _mount(names: Sequence[str]) -> None:
    for name in names:
        load, help_text = GROUPS[name]
        if help_text is None:
            app.add_typer(load(), name=name)
        else:
            app.add_typer(load(), name=name, help=help_text)


_mount(groups_needed(sys.argv))
