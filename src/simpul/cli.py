"""The `simpul` command: one entry point, a sub-command per area."""

from __future__ import annotations

import typer

app = typer.Typer(help="Simpul: SPRPA data exchange. Run `simpul COMMAND --help` for details.", no_args_is_help=True)


def _mount() -> None:
    from simpul_infra.cli import app as infra_app

    from simpul_contracts.cli import app as contracts_app
    from simpul_platform.cli import auth_app, dlq_app

    app.add_typer(infra_app, name="infra", help="Local Kafka, PostgreSQL and topics, without Docker.")
    app.add_typer(contracts_app, name="contracts", help="Event contracts: snapshots, compatibility, releases.")
    app.add_typer(dlq_app, name="dlq")
    app.add_typer(auth_app, name="auth")


_mount()
