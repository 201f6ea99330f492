"""What the event-bus bench needs besides the path it measures: throwaway infrastructure and the raw aiokafka path."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from simpul_infra import kafka, postgres
from simpul_infra.catalogue import load_catalogue
from simpul_infra.pg_server import PostgresServer
from simpul_infra.ports import free_port
from simpul_infra.topics import DLQ_SUFFIX, TopicSpec, ensure_topics

PARTITIONS = 3
RAW_SEND_CHUNK = 1000
PHASE_TIMEOUT_S = 120.0
JOIN_TIMEOUT_S = 30.0
POLL_S = 0.02


def progress(message: str) -> None:
    """A progress line on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def stop_servers_on_sigterm() -> None:
    """SIGTERM (`timeout`, `kill`) unwinds like Ctrl-C, so the broker and cluster a bench started are stopped
    (the default action ended the process at once and left both running)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)


@contextlib.contextmanager
def kafka_bootstrap(given: str | None) -> Iterator[str]:
    """The given bootstrap address, else a throwaway single-node broker on free ports."""
    if given:
        yield given
        return
    stop_servers_on_sigterm()
    data_dir = Path(tempfile.mkdtemp(prefix="simpul-bench-kafka-"))
    port, controller_port = free_port(), free_port()
    while controller_port == port:
        controller_port = free_port()
    try:
        progress(f"starting Kafka in {data_dir} ...")
        bootstrap = kafka.start(data_dir, port=port, controller_port=controller_port)
        progress(f"Kafka answers on {bootstrap}")
        yield bootstrap
    finally:
        progress("stopping Kafka ...")
        kafka.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.contextmanager
def postgres_server(admin_url: str | None) -> Iterator[PostgresServer]:
    """The server of the given admin URL, else a throwaway cluster with fsync off."""
    if admin_url:
        yield PostgresServer.from_url(admin_url)
        return
    stop_servers_on_sigterm()
    base = Path(tempfile.mkdtemp(prefix="simpul-bench-pg-"))
    base.chmod(0o755)  # as root the server runs as `postgres`, which must enter it
    try:
        progress(f"starting PostgreSQL in {base} ...")
        server = postgres.start(base / "cluster", fast=True)
        progress(f"PostgreSQL answers on {server.host}:{server.port}")
        yield server
    finally:
        progress("stopping PostgreSQL ...")
        postgres.stop(base / "cluster")
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(server: PostgresServer) -> Iterator[str]:
    """A new, empty database for this run (dropped afterwards); yields its asyncpg URL."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    server.create_database(name)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


async def create_topic(bootstrap: str, name: str) -> None:
    """A fresh 3-partition topic and its dead-letter topic."""
    specs = [TopicSpec(name, PARTITIONS, retention_ms=-1), TopicSpec(name + DLQ_SUFFIX, 1, retention_ms=-1)]
    await ensure_topics(bootstrap, specs)


async def create_catalogue(bootstrap: str, namespace: str) -> None:
    """Every catalogue topic (and its dead-letter topic) under the namespace, as a deployment has them: a service
    subscribes to all of its topics, not only the one a bench publishes on."""
    specs = [dataclasses.replace(spec, name=namespace + spec.name) for spec in load_catalogue().all_topics()]
    await ensure_topics(bootstrap, specs)


def subscriber_of(broker: Any, topic: str) -> AIOKafkaConsumer:
    """The Kafka consumer of the broker's subscriber to `topic`."""
    for subscriber in broker.subscribers:
        if topic in subscriber.topic_names:
            return cast(AIOKafkaConsumer, subscriber.consumer)
    raise LookupError(f"no subscriber to {topic}")


async def wait_assigned(consumer: AIOKafkaConsumer) -> None:
    """Wait until the group gave the consumer every partition, so joining is not timed."""
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    while len(consumer.assignment()) < PARTITIONS:
        if time.monotonic() > deadline:
            raise TimeoutError(f"consumer not assigned {PARTITIONS} partitions within {JOIN_TIMEOUT_S:.0f} s")
        await asyncio.sleep(POLL_S)


async def raw_produce(producer: AIOKafkaProducer, topic: str, payloads: Sequence[bytes]) -> None:
    """Send every payload; await the acknowledgements one chunk at a time."""
    for start in range(0, len(payloads), RAW_SEND_CHUNK):
        chunk = range(start, min(start + RAW_SEND_CHUNK, len(payloads)))
        futures = [await producer.send(topic, payloads[i], key=f"bench-{i}".encode()) for i in chunk]
        await asyncio.gather(*futures)


async def raw_consume(consumer: AIOKafkaConsumer, expected: int, max_records: int) -> float:
    """Read until `expected` records arrived; return the monotonic time of the last one."""
    received = 0
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    while received < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"raw consumer got {received} of {expected} records in {PHASE_TIMEOUT_S:.0f} s")
        batches = await consumer.getmany(timeout_ms=200, max_records=max_records)
        received += sum(len(records) for records in batches.values())
    return time.monotonic()


async def measure_raw(bootstrap: str, payloads: Sequence[bytes], max_batch_size: int, max_records: int) -> float:
    """Produce and consume concurrently; return the elapsed seconds from first send to last record consumed."""
    topic = f"bench-raw-{uuid.uuid4().hex[:12]}"
    await create_topic(bootstrap, topic)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
                                max_batch_size=max_batch_size)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"{topic}-group",
                                auto_offset_reset="earliest", enable_auto_commit=True)
    await producer.start()
    await consumer.start()
    try:
        await wait_assigned(consumer)
        progress(f"raw: producing and consuming {len(payloads):,} records on {topic} ...")
        started = time.monotonic()
        _, finished = await asyncio.gather(raw_produce(producer, topic, payloads),
                                           raw_consume(consumer, len(payloads), max_records))
    finally:
        await producer.stop()
        await consumer.stop()
    return finished - started
