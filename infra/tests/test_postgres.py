"""The local PostgreSQL cluster and database fixtures, against the real server."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from simpul_infra import postgres
from simpul_infra.pg_server import PostgresServer

pytestmark = pytest.mark.postgres


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def test_start_is_idempotent(postgres_server: PostgresServer) -> None:
    if postgres_server.data_dir is None:
        pytest.skip("an external server is in use")
    began = time.monotonic()
    again = postgres.start(postgres_server.data_dir, fast=True)
    assert time.monotonic() - began < 2.0
    assert again.port == postgres_server.port
    assert postgres.status(postgres_server.data_dir) == again


async def test_create_database_is_idempotent_and_connectable(postgres_server: PostgresServer) -> None:
    name = f"infra_{os.getpid()}_{int(time.time())}"
    assert postgres_server.create_database(name) is True
    assert postgres_server.create_database(name) is False
    conn = await asyncpg.connect(_asyncpg_dsn(postgres_server.url(name)))
    try:
        assert await conn.fetchval("select 1") == 1
        assert await conn.fetchval("select current_database()") == name
    finally:
        await conn.close()
    assert postgres_server.drop_database(name) is True
    assert postgres_server.drop_database(name) is False


async def test_make_database_gives_fresh_asyncpg_urls(make_database: Callable[..., str]) -> None:
    first, second = make_database("Registry-Service"), make_database()
    assert first.startswith("postgresql+asyncpg://")
    assert first != second
    assert "/registry_service_" in first
    conn = await asyncpg.connect(_asyncpg_dsn(first))
    try:
        assert await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'") == 0
    finally:
        await conn.close()


def test_urls_round_trip() -> None:
    server = PostgresServer.from_url("postgresql+asyncpg://app:p%40ss@db.example:6543/admin")
    assert (server.host, server.port, server.user, server.password, server.admin_database) == (
        "db.example", 6543, "app", "p@ss", "admin")
    assert server.url("reports") == "postgresql+asyncpg://app:p%40ss@db.example:6543/reports"
    assert server.url(driver="postgresql") == "postgresql://app:p%40ss@db.example:6543/admin"
    with pytest.raises(ValueError, match="database name"):
        server.create_database("Robert'); drop table students;--")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the data dir to the postgres OS user")
def test_unreachable_data_dir_is_a_clear_error() -> None:
    locked = Path(tempfile.mkdtemp(prefix="simpul-pg-locked-"))  # mkdtemp: mode 0700, owned by root
    try:
        assert not locked.stat().st_mode & stat.S_IXOTH
        with pytest.raises(postgres.PostgresError, match=f"cannot enter {locked}"):
            postgres.start(locked / "cluster", fast=True)
    finally:
        shutil.rmtree(locked, ignore_errors=True)


def test_stop_of_a_cluster_that_never_ran_is_a_no_op(tmp_path: Path) -> None:
    assert postgres.stop(tmp_path / "nothing") is False
    assert postgres.status(tmp_path / "nothing") is None
