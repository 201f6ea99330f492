"""Replicas started together migrate one after the other: two processes upgrade one fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support.database import scalar

pytestmark = pytest.mark.postgres
SERVICES = Path(__file__).resolve().parents[2] / "services"
UPGRADE = "import asyncio, sys, pathlib; from simpul_platform.migrations import upgrade; " \
          "asyncio.run(upgrade(sys.argv[1], pathlib.Path(sys.argv[2])))"


async def _upgrade_in_a_process(url: str, migrations: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", UPGRADE, url, str(migrations),
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


@pytest.mark.parametrize("service", ["registry", "identity"])
async def test_two_replicas_upgrading_a_fresh_database_at_once_both_succeed(
    make_database: Callable[..., str], service: str
) -> None:
    url = make_database(service)
    migrations = SERVICES / service / "migrations"
    outcomes = await asyncio.gather(*(_upgrade_in_a_process(url, migrations) for _ in range(2)))
    assert [code for code, _ in outcomes] == [0, 0], "\n".join(output for _, output in outcomes)
    heads = sorted(path.name.split("_")[0] for path in (migrations / "versions").glob("[0-9]*.py"))
    assert await scalar(url, text("SELECT version_num FROM alembic_version")) == heads[-1]
