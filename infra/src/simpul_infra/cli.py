"""`simpul infra`: local Kafka, PostgreSQL and topic provisioning, without Docker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from simpul_infra import kafka, postgres, topics
from simpul_infra.catalogue import CatalogueError
from simpul_infra.errors import InfraError

app = typer.Typer(help="Local Kafka, PostgreSQL and topics, without Docker.", no_args_is_help=True)
kafka_app = typer.Typer(help="A single-node Kafka (KRaft) from the pinned Maven jars.", no_args_is_help=True)
postgres_app = typer.Typer(help="A local PostgreSQL cluster from Debian's package.", no_args_is_help=True)
topics_app = typer.Typer(help="The topic catalogue (contracts/topics.yaml) on a cluster.", no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")
app.add_typer(postgres_app, name="postgres")
app.add_typer(topics_app, name="topics")

NOT_RUNNING = 3  # like `pg_ctl status`: scripts can tell "stopped" from "broken"

KafkaDataDir = Annotated[Path | None, typer.Option(help="Broker data dir [default: <state>/kafka/data]")]
PostgresDataDir = Annotated[Path | None, typer.Option(help="Cluster dir [default: <state>/postgres]")]
Bootstrap = Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers")]
CataloguePath = Annotated[Path | None, typer.Option(help="Topic catalogue [default: contracts/topics.yaml]")]


@contextmanager
def _reported() -> Iterator[None]:
    """Turn expected failures into one clear message and exit status 1 instead of a traceback."""
    try:
        yield
    except (InfraError, CatalogueError) as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


@kafka_app.command("install")
def kafka_install(force: Annotated[bool, typer.Option(help="Fetch the jars even if up to date")] = False) -> None:
    """Fetch the pinned Kafka jars with Maven (only when missing or the POM changed)."""
    with _reported():
        typer.echo(f"kafka: jars in {kafka.install(force=force)}")


@kafka_app.command("start")
def kafka_start(
    data_dir: KafkaDataDir = None,
    port: Annotated[int, typer.Option(help="Client (PLAINTEXT) port")] = kafka.DEFAULT_PORT,
    controller_port: Annotated[int, typer.Option(help="KRaft controller port")] = kafka.DEFAULT_CONTROLLER_PORT,
    heap: Annotated[str, typer.Option(help="JVM heap, e.g. 512m or 1g")] = "512m",
) -> None:
    """Start the broker (installing the jars first if needed); do nothing if one already answers."""
    data_dir = data_dir or kafka.default_data_dir()
    with _reported():
        bootstrap = kafka.start(data_dir, port=port, controller_port=controller_port, heap=heap)
    typer.echo(f"kafka: running on {bootstrap} (logs: {data_dir / 'logs' / 'server.log'})")


@kafka_app.command("stop")
def kafka_stop(data_dir: KafkaDataDir = None) -> None:
    """Stop the broker of the data dir (SIGTERM, SIGKILL after 30 s)."""
    with _reported():
        stopped = kafka.stop(data_dir or kafka.default_data_dir())
    typer.echo("kafka: stopped" if stopped else "kafka: was not running")


@kafka_app.command("status")
def kafka_status(data_dir: KafkaDataDir = None) -> None:
    """Show whether the broker runs and answers (exit status 3 when it does not)."""
    state = kafka.status(data_dir or kafka.default_data_dir())
    typer.echo(state.describe())
    if not state.answering:
        raise typer.Exit(NOT_RUNNING)


@postgres_app.command("start")
def postgres_start(
    data_dir: PostgresDataDir = None,
    port: Annotated[int | None, typer.Option(help="Port [default: the last one used, else a free one]")] = None,
    fast: Annotated[bool, typer.Option(help="fsync and synchronous_commit off: throwaway data only")] = False,
) -> None:
    """Start the cluster (installing PostgreSQL and running initdb first if needed)."""
    with _reported():
        server = postgres.start(data_dir or postgres.default_data_dir(), port=port, fast=fast)
    typer.echo(f"postgres: running on {server.host}:{server.port}; admin URL {server.url()}")


@postgres_app.command("stop")
def postgres_stop(data_dir: PostgresDataDir = None) -> None:
    """Stop the cluster (fast shutdown)."""
    with _reported():
        stopped = postgres.stop(data_dir or postgres.default_data_dir())
    typer.echo("postgres: stopped" if stopped else "postgres: was not running")


@postgres_app.command("status")
def postgres_status(data_dir: PostgresDataDir = None) -> None:
    """Show whether the cluster runs (exit status 3 when it does not)."""
    data_dir = data_dir or postgres.default_data_dir()
    server = postgres.status(data_dir)
    if server is None:
        typer.echo(f"postgres: stopped ({data_dir.resolve()})")
        raise typer.Exit(NOT_RUNNING)
    typer.echo(f"postgres: running on {server.host}:{server.port} ({server.data_dir})")


@postgres_app.command("url")
def postgres_url(
    database: Annotated[str, typer.Argument(help="Database name")] = "postgres",
    data_dir: PostgresDataDir = None,
    driver: Annotated[str, typer.Option(help="URL scheme, e.g. postgresql for psql")] = "postgresql+asyncpg",
    create: Annotated[bool, typer.Option(help="Create the database if missing")] = False,
) -> None:
    """Print the URL of DATABASE on the running cluster (for DATABASE_URL)."""
    server = postgres.status(data_dir or postgres.default_data_dir())
    if server is None:
        typer.secho("error: postgres is not running: `simpul infra postgres start`", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    if create:
        with _reported():
            try:
                server.create_database(database)
            except ValueError as exc:
                raise InfraError(str(exc)) from None
    typer.echo(server.url(database, driver=driver))


@topics_app.command("provision")
def topics_provision(
    bootstrap: Bootstrap = "127.0.0.1:9092",
    catalogue: CataloguePath = None,
    replication_factor: Annotated[int, typer.Option(help="Replicas per partition (3 on real clusters)")] = 1,
    min_insync_replicas: Annotated[int, typer.Option(help="min.insync.replicas of created topics")] = 1,
) -> None:
    """Create the catalogue's missing topics and their .dlq topics; existing topics are left alone."""
    with _reported():
        report = asyncio.run(topics.provision(
            bootstrap, topics.load_catalogue(catalogue),
            replication_factor=replication_factor, min_insync_replicas=min_insync_replicas,
        ))
    for line in report.lines():
        typer.echo(line)


@topics_app.command("list")
def topics_list(
    bootstrap: Bootstrap = "127.0.0.1:9092",
    internal: Annotated[bool, typer.Option(help="Include Kafka's internal __ topics")] = False,
) -> None:
    """List the cluster's topics with partition counts, marking those the catalogue does not know."""
    with _reported():
        counts = asyncio.run(topics.partition_counts(bootstrap, internal=internal))
        known = {spec.name for spec in topics.load_catalogue().all_topics()}
    width = max((len(name) for name in counts), default=0)
    for name, partitions in counts.items():
        note = "" if name in known else "  (not in catalogue)"
        typer.echo(f"{name:<{width}}  {partitions:>3} partition(s){note}")
    typer.echo(f"{len(counts)} topic(s) on {bootstrap}", err=True)


@topics_app.command("validate")
def topics_validate(catalogue: CataloguePath = None) -> None:
    """Check the catalogue without a cluster."""
    with _reported():
        loaded = topics.load_catalogue(catalogue)
    typer.echo(f"{len(loaded.topics)} topic(s), each with a .dlq: catalogue OK")
