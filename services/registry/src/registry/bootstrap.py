"""Composition root of the registry service: the app, its consumer, and the command line's dependencies."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from registry.adapters import orm
from registry.config import RegistrySettings
from registry.domain.closure import ClosureRule
from registry.entrypoints import idempotency_purge
from registry.entrypoints.consumers import identity_links
from registry.entrypoints.http.case_routes import router as case_router
from registry.entrypoints.http.erasure_routes import router as erasure_router
from registry.entrypoints.http.import_routes import MAX_BYTES as MAX_SURVEY_BYTES
from registry.entrypoints.http.import_routes import router as import_router
from registry.entrypoints.http.routes import router
from registry.service_layer.unit_of_work import RegistryRules, SqlRegistryUnitOfWork
from simpul_contracts.events import (
    CaseStatusChangedV1,
    ChildClassifiedV1,
    ChildErasedV1,
    ChildIdentityRecordedV1,
    ChildReferralDetailsRecordedV1,
    ChildReferralDetailsWithdrawnV1,
    ChildRegisteredV1,
    ChildUpdatedV1,
    ConsentChangedV1,
    MonitoringVisitRecordedV1,
    RecordLinkedV1,
)
from simpul_platform.database import Database
from simpul_platform.field_encryption import decode_key, development_blind_index_key, keyring_from
from simpul_platform.migrations import upgrade
from simpul_platform.runtime import build_runtime
from simpul_platform.web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def rules_from(settings: RegistrySettings) -> RegistryRules:
    """The handlers' rules from settings: source system, blind index key, closure rule."""
    index_key = settings.blind_index_key
    return RegistryRules(
        source_system=settings.source_system,
        blind_index_key=decode_key(index_key.get_secret_value()) if index_key else development_blind_index_key(),
        closure_rule=ClosureRule(settings.closure_visits_required, settings.closure_min_days_apart),
    )


@dataclass(frozen=True)
class Wiring:
    """What the routes, the consumer and the command line run on: units of work over the registry's database."""

    database: Database
    rules: RegistryRules
    after_commit: Callable[[], None] = lambda: None

    def unit_of_work(self) -> SqlRegistryUnitOfWork:
        """A fresh unit of work."""
        return SqlRegistryUnitOfWork(self.database, self.rules, self.after_commit)


def build(settings: RegistrySettings | None = None, *, for_documentation: bool = False) -> FastAPI:
    """The registry app with its runtime; uvicorn calls this as a factory."""
    settings = settings or RegistrySettings()
    runtime = build_runtime(settings, orm.delivery, MIGRATIONS, for_documentation=for_documentation)
    runtime.publishes(ChildIdentityRecordedV1, ChildRegisteredV1, ChildUpdatedV1, ChildClassifiedV1,
                      CaseStatusChangedV1, ConsentChangedV1, MonitoringVisitRecordedV1,
                      ChildReferralDetailsRecordedV1, ChildReferralDetailsWithdrawnV1, ChildErasedV1)
    wiring = Wiring(runtime.database, rules_from(settings), runtime.relay.wake)
    runtime.consume(RecordLinkedV1.topic, identity_links.HANDLERS, wiring.unit_of_work)
    idempotency_purge.register(runtime, wiring.unit_of_work, settings)
    app = create_app(
        runtime,
        title="Simpul registry",
        description="Children, guardians, consent, monitoring visits and case status for SPRPA villages.",
        routers=[router, case_router, import_router, erasure_router],
        body_limits={import_router.prefix: MAX_SURVEY_BYTES},
    )
    app.state.unit_of_work = wiring.unit_of_work
    return app


@contextlib.asynccontextmanager
async def for_command_line(database_url: str | None = None) -> AsyncIterator[Wiring]:
    """The command line's dependencies: the registry's database (migrated) with its keyring, closed after."""
    settings = RegistrySettings()
    url = database_url or settings.resolved_database_url()
    database = Database(url, pool_size=1, keyring=keyring_from(settings.field_keyring))
    try:
        await upgrade(url, MIGRATIONS)
        yield Wiring(database, rules_from(settings))
    finally:
        await database.dispose()
