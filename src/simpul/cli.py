"""The `simpul` command: one entry point, a sub-command per area."""

from __future__ import annotations

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


def _mount() -> None:
    from identity.cli import identity_app
    from registry.cli import regions_app
    from registry.cli.erasure import ERASE_COMMAND  # noqa: F401 - adds `registry erase` to the survey app
    from registry.cli.survey import registry_app
    from reporting.cli import reporting_app
    from simpul.keys import keys_app
    from simpul_contracts.cli import app as contracts_app
    from simpul_infra.cli import app as infra_app
    from simpul_platform.cli import auth_app, dlq_app

    app.add_typer(infra_app, name="infra", help="Local Kafka, PostgreSQL and topics, without Docker.")
    app.add_typer(contracts_app, name="contracts", help="Event contracts: snapshots, compatibility, releases.")
    app.add_typer(dlq_app, name="dlq")
    app.add_typer(auth_app, name="auth")
    app.add_typer(keys_app, name="keys")
    app.add_typer(regions_app, name="regions", help="Region reference data: import the official Kemendagri lists.")
    app.add_typer(identity_app, name="identity", help="Identity: deduplicate child records into persons.")
    app.add_typer(registry_app, name="registry", help="Children in bulk: import a survey, write its template.")
    app.add_typer(reporting_app, name="reporting", help="Reporting: rebuild the indicators from the topics.")


_mount()
