"""Optional Docker path for the test fixtures (SIMPUL_TEST_INFRA=testcontainers): Kafka and PostgreSQL containers.

testcontainers is imported lazily: it is a dev dependency, and Docker-less machines never reach this code.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from simpul_infra.pg_server import PostgresServer

KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
POSTGRES_IMAGE = "postgres:16-alpine"
_THROWAWAY_PASSWORD = "postgres"  # noqa: S105 - a per-session container nobody else can reach


def wanted() -> bool:
    """Whether SIMPUL_TEST_INFRA=testcontainers is set and Docker answers (warns and says no otherwise)."""
    if os.environ.get("SIMPUL_TEST_INFRA", "").lower() != "testcontainers":
        return False
    try:
        import docker  # noqa: PLC0415

        docker.from_env().ping()
    except Exception as exc:  # any failure means "no usable Docker"; fall back to local processes
        warnings.warn(f"SIMPUL_TEST_INFRA=testcontainers but Docker is unavailable ({exc!r}); "
                      "using local processes", stacklevel=2)
        return False
    return True


@contextmanager
def kafka_container() -> Iterator[str]:
    """A KRaft Kafka container for the duration of the block; yields its bootstrap address."""
    from testcontainers.community.kafka import KafkaContainer  # noqa: PLC0415

    with KafkaContainer(KAFKA_IMAGE).with_kraft() as container:
        yield container.get_bootstrap_server()


@contextmanager
def postgres_container() -> Iterator[PostgresServer]:
    """A PostgreSQL container for the duration of the block; yields its admin connection details."""
    from testcontainers.community.postgres import PostgresContainer  # noqa: PLC0415

    container = PostgresContainer(POSTGRES_IMAGE, username="postgres", password=_THROWAWAY_PASSWORD,
                                  dbname="postgres")
    with container as pg:
        yield PostgresServer(host=pg.get_container_host_ip(), port=int(pg.get_exposed_port(5432)),
                             user="postgres", password=_THROWAWAY_PASSWORD)
