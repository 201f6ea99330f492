"""A service's moving parts (database, broker, outbox relay, consumers) and their lifecycle."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from faststream.kafka import KafkaBroker

from simpul_contracts import Event
from simpul_platform.consumer import BatchHandler, EventConsumer
from simpul_platform.database import Database
from simpul_platform.dead_letters import DeadLetters
from simpul_platform.delivery_tables import DeliveryTables
from simpul_platform.field_encryption import bound_keyring, keyring_from
from simpul_platform.messaging import create_broker, subscribe
from simpul_platform.migrations import upgrade
from simpul_platform.outage import BrokerWatch
from simpul_platform.outbox import Outbox
from simpul_platform.relay import OutboxRelay
from simpul_platform.settings import ServiceSettings
from simpul_platform.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
SHUTDOWN_STEP_SECONDS = 15.0


@dataclass
class ServiceRuntime:
    """Everything a service runs besides its HTTP routes; built by the service's bootstrap."""

    settings: ServiceSettings
    tables: DeliveryTables
    migrations: Path
    database: Database
    broker: KafkaBroker
    outbox: Outbox
    relay: OutboxRelay
    consumers: list[EventConsumer] = field(default_factory=list)
    jobs: list[PeriodicJob] = field(default_factory=list)
    _relay_task: asyncio.Task[None] | None = None
    _job_tasks: list[asyncio.Task[None]] = field(default_factory=list)
    broker_watch: BrokerWatch | None = None
    _watch_task: asyncio.Task[None] | None = None

    def consume(self, topic: str, handlers: Mapping[type[Event], BatchHandler],
                unit_of_work: Callable[[], UnitOfWork]) -> EventConsumer:
        """Subscribe this service's consumer group to a topic: each polled batch applied in one unit of work."""
        name = self.settings.service_name
        consumer = EventConsumer(
            name=self.settings.topic_namespace + name,
            topic=self.settings.topic_namespace + topic,
            handlers=handlers,
            unit_of_work=unit_of_work,
            inbox=f"{name}:{topic}",  # logical: survives namespaces
            dead_letters=DeadLetters(self.broker, name, bound_keyring(self.database.engine.sync_engine.dialect)),
            max_attempts=self.settings.consumer_max_attempts,
        )
        group = consumer_group(self.settings.topic_namespace, name, topic)
        subscribe(self.broker, consumer, batch_size=self.settings.consumer_batch_size, group=group)
        self.consumers.append(consumer)
        return consumer

    def every(self, seconds: float, name: str, job: Callable[[], Awaitable[object]]) -> PeriodicJob:
        """Run `job` every `seconds` while the service runs (a scheduler: deadlines, expiries, erasure).

        Every replica runs its jobs; a job must be safe to run on two replicas at once (claim its rows with
        `FOR UPDATE SKIP LOCKED`, or make its effect idempotent). A failing round is logged and retried next round.
        """
        periodic = PeriodicJob(name=name, seconds=seconds, job=job)
        self.jobs.append(periodic)
        return periodic

    def publishes(self, *models: type[Event]) -> None:
        """Declare the events this service publishes (through the outbox) so AsyncAPI documents them."""
        for model in models:
            self.broker.publisher(
                self.settings.topic_namespace + model.topic,
                title=f"{model.topic}:{model.event_type}",
                description=f"{model.__doc__} Data class: {model.data_class.value}. Key: aggregate id.",
                schema=model,
            )

    async def start(self) -> None:
        """Migrate (when configured), connect to Kafka, start consuming and relaying."""
        tune_garbage_collector(self.settings.gc_young_threshold)
        if self.settings.migrate_on_start:
            await upgrade(self.database.url, self.migrations)
        await self.broker.start()
        self.broker_watch = BrokerWatch(lambda: self.broker.ping(timeout=2.0), self.settings.service_name)
        self._watch_task = asyncio.create_task(self.broker_watch.run(), name=f"{self.settings.service_name}-watch")
        if self.settings.outbox_relay_enabled:
            await self.relay.start()
            self._relay_task = asyncio.create_task(self.relay.run(), name=f"{self.settings.service_name}-relay")
        if self.settings.jobs_enabled:
            self._job_tasks = [asyncio.create_task(job.run(), name=f"{self.settings.service_name}-{job.name}")
                               for job in self.jobs]

    async def stop(self) -> None:
        """Stop jobs, relaying and consuming, then close connections; no step may hold up shutdown for long."""
        if self._watch_task is not None:
            self._watch_task.cancel()
            await _bounded("broker watch", asyncio.gather(self._watch_task, return_exceptions=True))
            self._watch_task = None
        for task in self._job_tasks:
            task.cancel()
        await _bounded("jobs", asyncio.gather(*self._job_tasks, return_exceptions=True))
        self._job_tasks = []
        if self._relay_task is not None:
            self._relay_task.cancel()
            await _bounded("relay task", asyncio.gather(self._relay_task, return_exceptions=True))
            self._relay_task = None
            await _bounded("relay producer", self.relay.stop())
        await _bounded("broker", self.broker.stop())
        await _bounded("database", self.database.dispose())

    async def readiness(self) -> dict[str, bool]:
        """Whether the database and the broker answer (an outage is reported by the broker watch, once)."""
        return {"database": await self.database.ping(), "broker": await self.broker.ping(timeout=2.0)}


def consumer_group(namespace: str, service: str, topic: str) -> str:
    """The Kafka consumer group of a service's consumer of `topic` (a logical topic name, without the namespace).

    One group per service and topic: in one group per service, every further subscription's join made the members
    already there rejoin (about a heartbeat, 3 s, each), and one slow topic held up the service's others.
    """
    return f"{namespace}{service}:{topic}"


@dataclass
class PeriodicJob:
    """A job a service runs every so many seconds; its rounds never overlap."""

    name: str
    seconds: float
    job: Callable[[], Awaitable[object]]

    async def run(self) -> None:
        """Round after round until cancelled; a failed round is logged (type only, never data) and retried."""
        while True:
            try:
                await self.job()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a job round must never stop the service
                log.error("job %s failed (%s); retrying in %.0fs", self.name, type(error).__name__, self.seconds)
            await asyncio.sleep(self.seconds)


def tune_garbage_collector(young_threshold: int) -> None:
    """Keep the cycle collector off the hot path of a long-running service.

    Everything alive at start (modules, schemas, mappers, compiled statements) moves to a permanent generation the
    collector never scans again, and the youngest generation is collected every `young_threshold` allocations
    instead of every 700: each consumed or published event allocates a few hundred objects, nearly all freed by
    reference counting, and with the default threshold the collector ran every few events over a large heap.
    """
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
    if not gc.get_freeze_count():  # once per process: what a later start froze could never be collected
        gc.collect()
        gc.freeze()


async def _bounded(what: str, step: Awaitable[object], seconds: float = SHUTDOWN_STEP_SECONDS) -> None:
    """Wait at most `seconds` for a shutdown step, then cancel it and go on without waiting for it again (wait_for
    would wait for the cancelled step to finish, without end for one that never does); its failure is raised."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if task in done:
        task.result()
        return
    task.cancel()
    log.error("shutdown: %s did not stop within %.0fs; going on", what, seconds)


def build_runtime(
    settings: ServiceSettings, tables: DeliveryTables, migrations: Path, *, for_documentation: bool = False
) -> ServiceRuntime:
    """Wire a runtime from settings; nothing connects until `start`. In production mode, refuses development keys."""
    settings.refuse_development_defaults()
    database = Database(settings.resolved_database_url(), keyring=keyring_from(settings.field_keyring))
    broker = create_broker(
        settings.kafka_bootstrap_servers, settings.service_name, for_documentation=for_documentation
    )
    relay = OutboxRelay(
        database,
        tables.outbox,
        settings.kafka_bootstrap_servers,
        batch_size=settings.outbox_batch_size,
        poll_seconds=settings.outbox_poll_seconds,
        topic_namespace=settings.topic_namespace,
        in_flight_batches=settings.outbox_in_flight_batches,
        standby_seconds=settings.outbox_standby_seconds,
    )
    return ServiceRuntime(
        settings=settings,
        tables=tables,
        migrations=migrations,
        database=database,
        broker=broker,
        outbox=Outbox(tables.outbox),
        relay=relay,
    )
