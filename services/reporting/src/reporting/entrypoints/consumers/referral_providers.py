"""Consumer of referral.provider.v1: every provider event kept as a fact of the provider indicators."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reporting.adapters.contract_mapping import PROVIDER_STEPS, provider_event
from reporting.domain.indicator_commands import KeepProviderEvents
from reporting.service_layer.indicator_handlers import keep_provider_events
from reporting.service_layer.unit_of_work import ReportingUnitOfWork
from simpul_contracts.events.referral.providers import ProviderRegisteredV1
from simpul_platform.delivery import Delivery
from simpul_platform.runtime import ServiceRuntime


async def provider_events(uow: ReportingUnitOfWork, run: Sequence[Delivery]) -> None:
    """A run of provider events as one command."""
    events = tuple(provider_event(d.event, d.envelope) for d in run)
    await keep_provider_events(KeepProviderEvents(events), uow)


def register(runtime: ServiceRuntime, unit_of_work: Callable[[], ReportingUnitOfWork]) -> None:
    """Subscribe reporting to referral's provider events."""
    runtime.consume(ProviderRegisteredV1.topic, dict.fromkeys(PROVIDER_STEPS, provider_events), unit_of_work)
