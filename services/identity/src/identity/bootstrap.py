"""Composition root of the identity service: the app, its consumer and the command line's dependencies."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from identity.adapters import orm
from identity.adapters.record_index import IndexedMatcher
from identity.config import IdentitySettings
from identity.domain.model import MatchModel
from identity.domain.source_records import Thresholds
from identity.entrypoints.consumers import registry_children, registry_erasures
from identity.entrypoints.http.model_routes import router as model_router
from identity.entrypoints.http.person_routes import router as person_router
from identity.entrypoints.http.routes import router as review_router
from identity.service_layer.unit_of_work import IdentityUnitOfWork, SqlIdentityUnitOfWork
from simpul_contracts.events import PersonsMergedV1, PersonUnmergedV1, RecordLinkedV1, ReviewRequestedV1
from simpul_platform.database import Database
from simpul_platform.field_encryption import keyring_from
from simpul_platform.runtime import build_runtime
from simpul_platform.web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@dataclass(frozen=True)
class Wiring:
    """What identity's entry points need: a fresh unit of work on demand, and the model and thresholds in force."""

    unit_of_work: Callable[[], IdentityUnitOfWork]
    model: MatchModel
    thresholds: Thresholds
    match_rate: Callable[[], float | None] = lambda: None  # the records' own, replacing the model's prior


def build(settings: IdentitySettings | None = None, *, for_documentation: bool = False) -> FastAPI:
    """The identity app with its runtime; uvicorn calls this as a factory."""
    settings = settings or IdentitySettings()
    runtime = build_runtime(settings, orm.delivery, MIGRATIONS, for_documentation=for_documentation)
    runtime.publishes(RecordLinkedV1, ReviewRequestedV1, PersonsMergedV1, PersonUnmergedV1)
    wiring = _wiring(settings, runtime.database, after_commit=runtime.relay.wake)
    registry_children.register(runtime, wiring.unit_of_work)
    registry_erasures.register(runtime, wiring.unit_of_work)
    app = create_app(
        runtime,
        title="Simpul identity",
        description="Deduplicated identity exchange: one pseudonymous person behind many source records, "
        "with a review queue for unsure matches.",
        routers=[review_router, person_router, model_router],
    )
    app.state.wiring = wiring
    return app


@contextlib.asynccontextmanager
async def command_line(database_url: str | None = None) -> AsyncIterator[Wiring]:
    """The command line's dependencies (one connection), closed on exit."""
    settings = IdentitySettings()
    database = Database(database_url or settings.resolved_database_url(), pool_size=1,
                        keyring=keyring_from(settings.field_keyring))
    try:
        yield _wiring(settings, database)
    finally:
        await database.dispose()


def match_model(settings: IdentitySettings) -> tuple[MatchModel, Thresholds]:
    """The match parameters from settings (the file, else the shipped default model) and the thresholds to apply."""
    model = (MatchModel.from_json(settings.match_model_path.read_text(encoding="utf-8"))
             if settings.match_model_path else MatchModel.default())
    return model, Thresholds(auto_link=settings.auto_link_threshold or model.auto_link,
                             review=settings.review_threshold or model.review)


def _wiring(settings: IdentitySettings, database: Database, after_commit: Callable[[], None] = lambda: None) -> Wiring:
    model, thresholds = match_model(settings)
    matcher = IndexedMatcher(database, model, thresholds)
    digest_key = settings.nik_digest_key.get_secret_value().encode()
    return Wiring(lambda: SqlIdentityUnitOfWork(database, matcher, digest_key, after_commit), model, thresholds,
                  matcher.match_rate)
