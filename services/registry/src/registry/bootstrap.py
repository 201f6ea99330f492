"""Composition root of the registry service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from registry.adapters import orm
from registry.config import RegistrySettings
from registry.entrypoints.consumers import identity_links
from registry.entrypoints.http.routes import router
from simpul_contracts.events import ChildIdentityRecordedV1
from simpul_platform.runtime import build_runtime
from simpul_platform.web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(settings: RegistrySettings | None = None, *, for_documentation: bool = False) -> FastAPI:
    """The registry app with its runtime; uvicorn calls this as a factory."""
    orm.start_mappers()
    runtime = build_runtime(settings or RegistrySettings(), orm.delivery, MIGRATIONS,
                            for_documentation=for_documentation)
    runtime.publishes(ChildIdentityRecordedV1)
    identity_links.register(runtime)
    return create_app(
        runtime,
        title="Simpul registry",
        description="Children, guardians, consent, monitoring visits and case status for SPRPA villages.",
        routers=[router],
    )
