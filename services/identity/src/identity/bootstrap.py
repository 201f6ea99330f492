"""Composition root of the identity service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from identity.adapters import orm
from identity.adapters.record_index import IndexedMatcher
from identity.config import IdentitySettings
from identity.domain.model import MatchModel
from identity.entrypoints.consumers import registry_children
from identity.entrypoints.http.person_routes import router as person_router
from identity.entrypoints.http.routes import router as review_router
from identity.service_layer.linking import Linking
from identity.service_layer.matching_port import Thresholds
from simpul_contracts.events import PersonsMergedV1, PersonUnmergedV1, RecordLinkedV1, ReviewRequestedV1
from simpul_platform.runtime import ServiceRuntime, build_runtime
from simpul_platform.web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(settings: IdentitySettings | None = None, *, for_documentation: bool = False) -> FastAPI:
    """The identity app with its runtime; uvicorn calls this as a factory."""
    settings = settings or IdentitySettings()
    runtime = build_runtime(settings, orm.delivery, MIGRATIONS, for_documentation=for_documentation)
    runtime.publishes(RecordLinkedV1, ReviewRequestedV1, PersonsMergedV1, PersonUnmergedV1)
    linking = configure(settings, runtime)
    registry_children.register(runtime, linking)
    app = create_app(
        runtime,
        title="Simpul identity",
        description="Deduplicated identity exchange: one pseudonymous person behind many source records, "
        "with a review queue for unsure matches.",
        routers=[review_router, person_router],
    )
    app.state.linking = linking
    return app


def configure(settings: IdentitySettings, runtime: ServiceRuntime) -> Linking:
    """Linking's dependencies from settings."""
    model = (MatchModel.from_json(settings.match_model_path.read_text(encoding="utf-8"))
             if settings.match_model_path else MatchModel.default())
    thresholds = Thresholds(auto_link=settings.auto_link_threshold or model.auto_link,
                            review=settings.review_threshold or model.review)
    matcher = IndexedMatcher(runtime.database, model, thresholds)
    return Linking(runtime.outbox, matcher, settings.nik_digest_key.get_secret_value().encode())
