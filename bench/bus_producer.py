"""The producing side of the event-bus bench, in its own process as in production: a service's outbox and relay.

It plays identity: its own database (the platform's delivery tables), events published through the platform's
unit of work (Outbox rows committed, each commit waking the relay) and an OutboxRelay built by `build_runtime`
with a service's default settings, which sends them to identity.link.v1. No consumer is subscribed here.
"""

from __future__ import annotations

import asyncio
import cProfile
import multiprocessing
import multiprocessing.sharedctypes
import multiprocessing.synchronize
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reporting.adapters.orm import delivery
from reporting.bootstrap import MIGRATIONS
from reporting.config import ReportingSettings
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.runtime import ServiceRuntime, build_runtime
from simpul_platform.telemetry import configure_logging, configure_telemetry, trace_engine
from simpul_platform.unit_of_work import SqlUnitOfWork


@dataclass(frozen=True)
class Order:
    """What the producer is to do: where, how many, and whether to set up telemetry as a service does."""

    database_url: str
    bootstrap: str
    namespace: str
    events: int
    tx_batch: int
    telemetry: bool
    profile_to: str | None = None  # a path: cProfile the producer from the go to the stop, stats written there


@dataclass(frozen=True)
class Signals:
    """Parent -> child and back: ready (started), go (clock started), written (outbox complete), stop; CPU used."""

    ready: multiprocessing.synchronize.Event
    go: multiprocessing.synchronize.Event
    written: multiprocessing.synchronize.Event
    stop: multiprocessing.synchronize.Event
    # The producer's CPU seconds from the go: when the outbox was written, and at the stop (outbox and relay).
    cpu_written: multiprocessing.sharedctypes.Synchronized[float]
    cpu_total: multiprocessing.sharedctypes.Synchronized[float]


def producer_runtime(order: Order) -> ServiceRuntime:
    """A service runtime over the producer's own database: relay and outbox, no consumer."""
    settings = ReportingSettings(service_name="bench-producer", database_url=order.database_url,
                                 kafka_bootstrap_servers=order.bootstrap, topic_namespace=order.namespace)
    return build_runtime(settings, delivery, Path(MIGRATIONS))


async def publish(runtime: ServiceRuntime, events: Sequence[RecordLinkedV1], tx_batch: int) -> None:
    """Publish through the platform's unit of work, `tx_batch` events per transaction."""
    for start in range(0, len(events), tx_batch):
        async with SqlUnitOfWork(runtime.database, runtime.tables, after_commit=runtime.relay.wake) as uow:
            uow.publish(*events[start : start + tx_batch])
            await uow.commit()


async def produce(order: Order, events: Sequence[RecordLinkedV1], signals: Signals) -> None:
    """Start, wait for the go, publish everything, relay until told to stop."""
    runtime = producer_runtime(order)
    if order.telemetry:
        configure_logging()
        configure_telemetry("bench-producer")
        trace_engine(runtime.database.engine.sync_engine)
    await runtime.start()
    try:
        signals.ready.set()
        await asyncio.to_thread(signals.go.wait)
        profile = cProfile.Profile() if order.profile_to else None
        if profile:
            profile.enable()
        cpu = time.process_time()
        await publish(runtime, events, order.tx_batch)
        signals.cpu_written.value = time.process_time() - cpu
        signals.written.set()
        await asyncio.to_thread(signals.stop.wait)
        signals.cpu_total.value = time.process_time() - cpu
        if profile and order.profile_to:
            profile.disable()
            profile.dump_stats(order.profile_to)
    finally:
        await runtime.stop()


def main(order: Order, events: Sequence[RecordLinkedV1], signals: Signals) -> None:
    """The child process's entry point."""
    asyncio.run(produce(order, events, signals))


def spawn(order: Order, events: Sequence[RecordLinkedV1]) -> tuple[multiprocessing.process.BaseProcess, Signals]:
    """Start the producer process; it sets `ready` once its relay runs."""
    context = multiprocessing.get_context("spawn")
    signals = Signals(context.Event(), context.Event(), context.Event(), context.Event(),
                      context.Value("d", 0.0), context.Value("d", 0.0))
    process = context.Process(target=main, args=(order, events, signals), name="bench-producer")
    process.start()
    return process, signals
