"""Composition root of the reporting service: the only place its runtime and units of work are built."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI

from reporting.adapters import orm
from reporting.config import ReportingSettings
from reporting.entrypoints import feed_job
from reporting.entrypoints.consumers import (
    identity_links,
    identity_persons,
    referral_providers,
    referral_referrals,
    registry_children,
)
from reporting.entrypoints.http import dashboard, feed, indicators
from reporting.entrypoints.http.routes import router
from reporting.service_layer.unit_of_work import SqlReportingUnitOfWork
from simpul_contracts.events import IndicatorPublishedV1
from simpul_platform.runtime import ServiceRuntime, build_runtime
from simpul_platform.web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@dataclass(frozen=True)
class Wiring:
    """Reporting's dependencies, built once from settings: routes and consumers reach them through this."""

    settings: ReportingSettings
    runtime: ServiceRuntime
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    def unit_of_work(self) -> SqlReportingUnitOfWork:
        """A fresh unit of work over reporting's database; its commits nudge the relay."""
        return SqlReportingUnitOfWork(self.runtime.database, self.runtime.tables, after_commit=self.runtime.relay.wake)


def wire(settings: ReportingSettings | None = None, *, for_documentation: bool = False,
         clock: Callable[[], dt.datetime] | None = None) -> Wiring:
    """The runtime with reporting's consumers subscribed; nothing connects until the runtime starts.

    `clock` is the time the indicators' snapshots are taken at (tests pass a fixed one)."""
    settings = settings or ReportingSettings()
    runtime = build_runtime(settings, orm.delivery, MIGRATIONS, for_documentation=for_documentation)
    wiring = Wiring(settings, runtime) if clock is None else Wiring(settings, runtime, clock)
    identity_links.register(runtime, wiring.unit_of_work)
    for consumer in (registry_children, identity_persons, referral_referrals, referral_providers):
        consumer.register(runtime, wiring.unit_of_work)
    runtime.publishes(IndicatorPublishedV1)
    feed_job.register(runtime, wiring.unit_of_work, wiring.clock, feed.protection(settings),
                      settings.feed_check_seconds)
    return wiring


def build(settings: ReportingSettings | None = None, *, for_documentation: bool = False,
          clock: Callable[[], dt.datetime] | None = None) -> FastAPI:
    """The reporting app with its runtime; uvicorn calls this as a factory."""
    wiring = wire(settings, for_documentation=for_documentation, clock=clock)
    app = create_app(
        wiring.runtime,
        title="Simpul reporting",
        description="Indicators and aggregated feeds for districts and the ministry: counts only, small cells "
        "suppressed.",
        routers=[router, indicators.router, feed.router, dashboard.router],
    )
    app.state.wiring = wiring
    return app
