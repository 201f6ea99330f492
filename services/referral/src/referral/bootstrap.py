"""Composition root of the referral service: the only place its runtime and units of work are built."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI

from referral.adapters import orm
from referral.config import ReferralSettings
from referral.entrypoints import erasure, idempotency_purge, jobs, rescoring, webhook_attempts
from referral.entrypoints.consumers import (
    child_details,
    identity_links,
    identity_persons,
    registry_children,
    webhook_deliveries,
)
from referral.entrypoints.http import child_details as child_details_http
from referral.entrypoints.http import clients as clients_http
from referral.entrypoints.http import fhir as fhir_http
from referral.entrypoints.http import (
    oauth,
    provider_referrals,
    provider_services,
    provider_webhooks,
    providers,
    referrals,
)
from referral.service_layer.unit_of_work import SqlReferralUnitOfWork
from simpul_contracts.events.referral import providers as provider_events
from simpul_contracts.events.referral import referrals as referral_events
from simpul_platform.runtime import ServiceRuntime, build_runtime
from simpul_platform.web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
PROVIDER_EVENTS = [getattr(provider_events, name) for name in provider_events.__all__]
REFERRAL_EVENTS = (referral_events.ReferralIssuedV1, referral_events.ReferralAcknowledgedV1,
                   referral_events.ReferralAcceptedV1, referral_events.ReferralDeclinedV1,
                   referral_events.ReferralServiceStartedV1, referral_events.ReferralServiceRecordedV1,
                   referral_events.ReferralCompletedV1, referral_events.ReferralRevokedV1,
                   referral_events.ReferralExpiredV1, referral_events.ReferralOverdueV1,
                   referral_events.ReferralEscalatedV1, referral_events.ReferralPersonChangedV1)


@dataclass(frozen=True)
class Wiring:
    """Referral's dependencies, built once from settings: routes and consumers reach them through this."""

    settings: ReferralSettings
    runtime: ServiceRuntime
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    def unit_of_work(self) -> SqlReferralUnitOfWork:
        """A fresh unit of work over referral's database; its commits nudge the relay."""
        return SqlReferralUnitOfWork(self.runtime.database, self.runtime.tables, orm.audit_log,
                                     after_commit=self.runtime.relay.wake)


def wire(settings: ReferralSettings | None = None, *, for_documentation: bool = False,
         clock: Callable[[], dt.datetime] | None = None) -> Wiring:
    """The runtime with referral's consumers and jobs; nothing connects until the runtime starts.

    `clock` is the time every use case and job sees (tests pass a controllable one).
    """
    settings = settings or ReferralSettings()
    runtime = build_runtime(settings, orm.delivery, MIGRATIONS, for_documentation=for_documentation)
    wiring = Wiring(settings, runtime) if clock is None else Wiring(settings, runtime, clock)
    identity_links.register(runtime, wiring.unit_of_work)
    identity_persons.register(runtime, wiring.unit_of_work)
    registry_children.register(runtime, wiring.unit_of_work, wiring.clock, settings)
    runtime.publishes(*REFERRAL_EVENTS)
    jobs.register(runtime, wiring.unit_of_work, wiring.clock, settings)
    runtime.publishes(*PROVIDER_EVENTS)
    rescoring.register(runtime, wiring.unit_of_work, wiring.clock, settings)
    child_details.register(runtime, wiring.unit_of_work, wiring.clock)
    erasure.register(runtime, wiring.unit_of_work, wiring.clock, settings)
    idempotency_purge.register(runtime, wiring.unit_of_work, wiring.clock, settings)
    webhook_deliveries.register(runtime, wiring.unit_of_work, wiring.clock)
    webhook_attempts.register(runtime, wiring.unit_of_work, wiring.clock, settings)
    return wiring


def build(settings: ReferralSettings | None = None, *, for_documentation: bool = False,
          clock: Callable[[], dt.datetime] | None = None) -> FastAPI:
    """The referral app with its runtime; uvicorn calls this as a factory (tests may pass a clock)."""
    wiring = wire(settings, for_documentation=for_documentation, clock=clock)
    app = create_app(
        wiring.runtime,
        title="Simpul referral",
        description="Providers, vetting, MoUs, referrals and service records.",
        routers=[providers.router, referrals.router, child_details_http.router, provider_referrals.router,
                 clients_http.router, oauth.router, provider_services.router, provider_webhooks.router,
                 fhir_http.router],
    )
    app.webhooks.include_router(provider_webhooks.outgoing)  # documents what providers' endpoints receive
    app.state.wiring = wiring
    return app
