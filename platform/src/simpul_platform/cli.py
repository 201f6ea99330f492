"""`simpul dlq` and `simpul auth`: operator commands of the platform."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from simpul_platform.auth import Role, mint_token
from simpul_platform.dead_letter_tools import read_dead_letters, replay
from simpul_platform.settings import DEV_SECRET

dlq_app = typer.Typer(help="Dead-letter topics: see why records failed, replay them after a fix.", no_args_is_help=True)
auth_app = typer.Typer(help="Development bearer tokens.", no_args_is_help=True)
Bootstrap = Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers")]


@dlq_app.command("list")
def list_dead_letters(topic: str, bootstrap: Bootstrap = "127.0.0.1:9092") -> None:
    """List the records on TOPIC.dlq with their errors."""
    letters = asyncio.run(read_dead_letters(bootstrap, topic))
    for letter in letters:
        typer.echo(letter.describe())
    typer.echo(f"{len(letters)} dead letter(s) on {topic}.dlq", err=True)


@dlq_app.command("replay")
def replay_dead_letters(
    topic: str,
    bootstrap: Bootstrap = "127.0.0.1:9092",
    offset: Annotated[list[int] | None, typer.Option(help="Only these DLQ offsets (repeatable)")] = None,
    value_file: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Corrected body; needs exactly one --offset")
    ] = None,
) -> None:
    """Publish dead letters back to their source topic; consumers skip any they already applied."""
    if value_file is not None and len(offset or []) != 1:
        raise typer.BadParameter("--value-file replaces one record's body: give exactly one --offset")
    letters = asyncio.run(read_dead_letters(bootstrap, topic))
    chosen = [d for d in letters if not offset or d.offset in offset]
    missing = set(offset or []) - {d.offset for d in chosen}
    if missing:
        raise typer.BadParameter(f"no dead letter at offset(s) {sorted(missing)} on {topic}.dlq")
    count = asyncio.run(replay(bootstrap, chosen, value_file.read_bytes() if value_file else None))
    typer.echo(f"replayed {count} record(s) from {topic}.dlq")


@auth_app.command("token")
def token(
    role: Annotated[Role, typer.Option(help="cadre, district_officer, provider, ministry or service")],
    subject: Annotated[str, typer.Option(help="Who the token is for (a person or client id)")],
    scope: Annotated[list[str] | None, typer.Option(help="Region code(s) or provider id (repeatable)")] = None,
    hours: Annotated[float, typer.Option(help="Validity")] = 12,
) -> None:
    """Mint a development token signed with SIMPUL_JWT_SECRET (or the development secret)."""
    secret = os.environ.get("SIMPUL_JWT_SECRET", DEV_SECRET)
    typer.echo(mint_token(secret, subject, role, scope or [], hours))
