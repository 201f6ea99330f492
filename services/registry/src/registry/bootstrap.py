"""Composition root of the registry service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from registry.adapters import orm
from registry.config import RegistrySettings
from registry.entrypoints.consumers import identity_links
from registry.entrypoints.http.case_routes import router as case_router
from registry.entrypoints.http.import_routes import router as import_router
from registry.entrypoints.http.routes import router
from registry.service_layer.children import configure
from simpul_contracts.events import (
    CaseStatusChangedV1,
    ChildClassifiedV1,
    ChildIdentityRecordedV1,
    ChildRegisteredV1,
    ChildUpdatedV1,
    ConsentChangedV1,
    MonitoringVisitRecordedV1,
)
from simpul_platform.runtime import build_runtime
from simpul_platform.web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(settings: RegistrySettings | None = None, *, for_documentation: bool = False) -> FastAPI:
    """The registry app with its runtime; uvicorn calls this as a factory."""
    settings = settings or RegistrySettings()
    runtime = build_runtime(settings, orm.delivery, MIGRATIONS, for_documentation=for_documentation)
    runtime.publishes(ChildIdentityRecordedV1, ChildRegisteredV1, ChildUpdatedV1, ChildClassifiedV1,
                      CaseStatusChangedV1, ConsentChangedV1, MonitoringVisitRecordedV1)
    registry = configure(settings, runtime.outbox)
    identity_links.register(runtime, registry)
    app = create_app(
        runtime,
        title="Simpul registry",
        description="Children, guardians, consent, monitoring visits and case status for SPRPA villages.",
        routers=[router, case_router, import_router],
    )
    app.state.registry = registry
    return app
