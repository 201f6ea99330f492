"""Composition root of the identity service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from identity.adapters import orm
from identity.config import IdentitySettings
from identity.entrypoints.consumers import registry_children
from simpul_contracts.events import RecordLinkedV1
from simpul_platform.runtime import build_runtime
from simpul_platform.web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(settings: IdentitySettings | None = None, *, for_documentation: bool = False) -> FastAPI:
    """The identity app with its runtime; uvicorn calls this as a factory."""
    settings = settings or IdentitySettings()
    runtime = build_runtime(settings, orm.delivery, MIGRATIONS, for_documentation=for_documentation)
    runtime.publishes(RecordLinkedV1)
    registry_children.register(runtime, settings)
    return create_app(
        runtime,
        title="Simpul identity",
        description="Deduplicated identity exchange: one pseudonymous person behind many source records.",
        routers=[],
    )
