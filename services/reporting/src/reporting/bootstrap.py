"""Composition root of the reporting service: the only place its runtime and units of work are built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from reporting.adapters import orm
from reporting.config import ReportingSettings
from reporting.entrypoints.consumers import identity_links
from reporting.entrypoints.http.routes import router
from reporting.service_layer.unit_of_work import SqlReportingUnitOfWork
from simpul_platform.runtime import ServiceRuntime, build_runtime
from simpul_platform.web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@dataclass(frozen=True)
class Wiring:
    """Reporting's dependencies, built once from settings: routes and consumers reach them through this."""

    settings: ReportingSettings
    runtime: ServiceRuntime

    def unit_of_work(self) -> SqlReportingUnitOfWork:
        """A fresh unit of work over reporting's database; its commits nudge the relay."""
        return SqlReportingUnitOfWork(self.runtime.database, self.runtime.tables, after_commit=self.runtime.relay.wake)


def wire(settings: ReportingSettings | None = None, *, for_documentation: bool = False) -> Wiring:
    """The runtime with reporting's consumers subscribed; nothing connects until the runtime starts."""
    settings = settings or ReportingSettings()
    runtime = build_runtime(settings, orm.delivery, MIGRATIONS, for_documentation=for_documentation)
    wiring = Wiring(settings, runtime)
    identity_links.register(runtime, wiring.unit_of_work)
    return wiring


def build(settings: ReportingSettings | None = None, *, for_documentation: bool = False) -> FastAPI:
    """The reporting app with its runtime; uvicorn calls this as a factory."""
    wiring = wire(settings, for_documentation=for_documentation)
    app = create_app(
        wiring.runtime,
        title="Simpul reporting",
        description="Indicators and aggregated feeds for districts and the ministry: counts only, small cells "
        "suppressed.",
        routers=[router],
    )
    app.state.wiring = wiring
    return app
