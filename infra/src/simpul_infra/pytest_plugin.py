"""pytest fixtures for real infrastructure: one Kafka broker and one PostgreSQL server per test session.

Register with `pytest_plugins = ["simpul_infra.pytest_plugin"]`. Given servers win (KAFKA_BOOTSTRAP_SERVERS,
SIMPUL_TEST_POSTGRES_URL); else SIMPUL_TEST_INFRA=testcontainers uses Docker if it answers; else local processes
in temp dirs, stopped at session end.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from simpul_infra import asyncapi_parser, containers, kafka, postgres, topics
from simpul_infra.blocking import run_blocking
from simpul_infra.pg_server import PostgresServer
from simpul_infra.ports import free_port


def _provisioned(bootstrap: str) -> str:
    run_blocking(topics.provision(bootstrap))
    return bootstrap


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a Kafka cluster with the catalogue's topics (and `.dlq`s) provisioned."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield _provisioned(given)
        return
    if containers.wanted():
        with containers.kafka_container() as bootstrap:
            yield _provisioned(bootstrap)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="simpul-kafka-"))
    port = free_port()
    controller_port = free_port()
    while controller_port == port:
        controller_port = free_port()
    try:
        kafka.install()
        yield _provisioned(kafka.start(data_dir, port=port, controller_port=controller_port))
    finally:
        kafka.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Admin connection details of a PostgreSQL server for the session."""
    given = os.environ.get("SIMPUL_TEST_POSTGRES_URL")
    if given:
        yield PostgresServer.from_url(given)
        return
    if containers.wanted():
        with containers.postgres_container() as server:
            yield server
        return
    base = Path(tempfile.mkdtemp(prefix="simpul-pg-"))
    base.chmod(0o755)  # mkdtemp makes it 0700; as root the server runs as `postgres`, which must enter it
    try:
        yield postgres.start(base / "cluster", fast=True)
    finally:
        postgres.stop(base / "cluster")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def asyncapi_validator() -> Callable[..., asyncapi_parser.Validation]:
    """The official AsyncAPI parser (`npm ci` on first use): `asyncapi_validator(path, ...)` validates documents."""
    asyncapi_parser.ensure_installed()
    return asyncapi_parser.validate


@pytest.fixture(scope="session")
def make_database(postgres_server: PostgresServer) -> Iterator[Callable[..., str]]:
    """Factory: `make_database("registry")` creates a fresh database and returns its postgresql+asyncpg URL."""
    created: list[str] = []

    def make(prefix: str = "test") -> str:
        clean = re.sub(r"[^a-z0-9_]", "_", prefix.lower())[:40].lstrip("0123456789") or "test"
        name = f"{clean}_{uuid.uuid4().hex[:12]}"
        postgres_server.create_database(name)
        created.append(name)
        return postgres_server.url(name)

    yield make
    if postgres_server.data_dir is None:  # a shared server outlives the session: do not leave litter
        for name in created:
            postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def make_topic(kafka_bootstrap: str) -> Callable[..., Awaitable[str]]:
    """Async factory: `await make_topic("orders", partitions=3)` creates a unique topic and its `.dlq`."""

    async def make(prefix: str = "test", partitions: int = 1) -> str:
        return await topics.fresh_topic(kafka_bootstrap, prefix, partitions)

    return make
