"""Composition root of the referral service: the only place its runtime and units of work are built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from referral.adapters import orm
from referral.config import ReferralSettings
from referral.entrypoints.consumers import identity_links
from referral.service_layer.unit_of_work import SqlReferralUnitOfWork
from simpul_platform.runtime import ServiceRuntime, build_runtime
from simpul_platform.web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


@dataclass(frozen=True)
class Wiring:
    """Referral's dependencies, built once from settings: routes and consumers reach them through this."""

    settings: ReferralSettings
    runtime: ServiceRuntime

    def unit_of_work(self) -> SqlReferralUnitOfWork:
        """A fresh unit of work over referral's database; its commits nudge the relay."""
        return SqlReferralUnitOfWork(self.runtime.database, self.runtime.tables, after_commit=self.runtime.relay.wake)


def wire(settings: ReferralSettings | None = None, *, for_documentation: bool = False) -> Wiring:
    """The runtime with referral's consumers subscribed; nothing connects until the runtime starts."""
    settings = settings or ReferralSettings()
    runtime = build_runtime(settings, orm.delivery, MIGRATIONS, for_documentation=for_documentation)
    wiring = Wiring(settings, runtime)
    identity_links.register(runtime, wiring.unit_of_work)
    return wiring


def build(settings: ReferralSettings | None = None, *, for_documentation: bool = False) -> FastAPI:
    """The referral app with its runtime; uvicorn calls this as a factory."""
    wiring = wire(settings, for_documentation=for_documentation)
    app = create_app(
        wiring.runtime,
        title="Simpul referral",
        description="Providers, vetting, MoUs, referrals and service records.",
        routers=[],
    )
    app.state.wiring = wiring
    return app
