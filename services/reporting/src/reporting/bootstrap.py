"""Composition root of the reporting service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from reporting.adapters import orm
from reporting.config import ReportingSettings
from reporting.entrypoints.consumers import identity_links
from reporting.entrypoints.http.routes import router
from simpul_platform.runtime import build_runtime
from simpul_platform.web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def build(settings: ReportingSettings | None = None, *, for_documentation: bool = False) -> FastAPI:
    """The reporting app with its runtime; uvicorn calls this as a factory."""
    runtime = build_runtime(settings or ReportingSettings(), orm.delivery, MIGRATIONS,
                            for_documentation=for_documentation)
    identity_links.register(runtime)
    return create_app(
        runtime,
        title="Simpul reporting",
        description="Indicators and aggregated feeds for districts and the ministry: counts only, small cells "
        "suppressed.",
        routers=[router],
    )
