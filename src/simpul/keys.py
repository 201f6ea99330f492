"""`simpul keys`: make field keys and rotate a service's encrypted columns onto the current one."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

import typer

from simpul.services import SERVICES
from simpul_platform.field_encryption import new_key_entry
from simpul_platform.key_rotation import rotate_field_keys
from simpul_platform.runtime import ServiceRuntime

keys_app = typer.Typer(help="Field encryption keys: generate one, rotate a service's data onto it.",
                       no_args_is_help=True)


@keys_app.command("generate")
def generate(key_id: Annotated[str, typer.Option("--id", help="The new key's id (default: k<today>)")] = "") -> None:
    """Print a fresh random keyring entry `id:<base64 32 bytes>`; put it FIRST in <SERVICE>_FIELD_KEYRING."""
    typer.echo(new_key_entry(key_id or f"k{dt.datetime.now(dt.UTC):%Y%m%d}"))


@keys_app.command("rotate")
def rotate(
    service: Annotated[str, typer.Argument(help=f"One of {', '.join(SERVICES)}")],
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per transaction")] = 500,
) -> None:
    """Re-encrypt every token of SERVICE's sealed columns (encrypted columns, stored Idempotency-Key answers) under
    the current (first) key of its keyring.

    Safe to rerun and to run beside the live service. When it reports nothing left, the old keys may go.
    """
    if service not in SERVICES:
        raise typer.BadParameter(f"no such service; one of {', '.join(SERVICES)}", param_hint="SERVICE")
    spec = SERVICES[service]
    app = spec.build(spec.settings_with())
    runtime: ServiceRuntime = app.state.runtime

    async def run() -> int:
        try:
            reports = await rotate_field_keys(runtime.database, runtime.tables.outbox.metadata,
                                              batch_size=batch_size, progress=typer.echo)
        finally:
            await runtime.database.dispose()
        return sum(r.tokens_rewritten for r in reports)

    rewritten = asyncio.run(run())
    typer.echo(f"{service}: {rewritten} token(s) rewritten under the current key")
