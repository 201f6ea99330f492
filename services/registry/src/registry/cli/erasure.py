"""`simpul registry erase`: erase a child's identifying data, as the officer-only endpoint does."""

from __future__ import annotations

import asyncio
import datetime as dt
import getpass
from typing import Annotated

import typer

from registry.cli import DATABASE_FAILED, fail
from registry.cli.survey import registry_app
from registry.domain.erasure import ErasureReason

REFUSED = 4
ERASE_COMMAND = "erase"  # on `registry_app` (`simpul registry erase`): importing this module adds it


@registry_app.command(ERASE_COMMAND)
def erase(
    child: Annotated[str, typer.Argument(help="The child's id (chd_...)")],
    *,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log, never published)")],
    code: Annotated[ErasureReason, typer.Option(help="The reason as a code, published to every service")] =
        ErasureReason.DATA_SUBJECT_REQUEST,
    erased_by: Annotated[str, typer.Option(help="Who the audit log names (default: your login)")] = "",
    database_url: Annotated[str | None, typer.Option(
        help="Registry database (default: REGISTRY_DATABASE_URL, else the local SQLite file)")] = None,
) -> None:
    """Erase the child's names, NIK, KK, guardians, exact birth date and free texts; every service erases its
    copy on the event published with it, and the restricted topics get a tombstone for the child.

    Exit status: 0 erased, 3 database failure, 4 refused (no such child, already erased, no reason).
    """
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415  (see registry.cli: imports at run time)

    from simpul_platform.errors import DomainError  # noqa: PLC0415

    try:
        erased_at = asyncio.run(_erase(database_url, child, reason, code, f"cli:{erased_by or getpass.getuser()}"))
    except DomainError as refused:
        fail(f"{refused.field}: {refused.reason}", REFUSED)
    except (OSError, SQLAlchemyError) as error:
        fail(f"database: {str(error).splitlines()[0]}; nothing erased", DATABASE_FAILED)
    typer.echo(f"{child}: erased at {erased_at.isoformat()}")


async def _erase(database_url: str | None, child_id: str, reason: str, code: ErasureReason,
                 subject: str) -> dt.datetime:
    from registry.bootstrap import for_command_line  # noqa: PLC0415
    from registry.domain.commands import EraseChild, ListProvinces  # noqa: PLC0415
    from registry.service_layer.handlers.erasure import erase_child  # noqa: PLC0415
    from registry.service_layer.handlers.regions import every_province  # noqa: PLC0415
    from simpul_platform.auth import Principal, Role  # noqa: PLC0415
    from simpul_platform.unit_of_work import execute  # noqa: PLC0415

    async with for_command_line(database_url) as wiring:
        scope = await execute(wiring.unit_of_work(), every_province, ListProvinces())
        command = EraseChild(Principal(subject, Role.DISTRICT_OFFICER, scope), child_id, reason, code,
                             dt.datetime.now(dt.UTC))
        return (await execute(wiring.unit_of_work(), erase_child, command)).erased_at
