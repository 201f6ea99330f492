"""Use cases of the `webhooks` area (see the package's docstring): a provider's endpoints and secrets, the deliveries
the referral events make, the delivery job's two steps, the delivery log and redelivery.

The delivery job claims due deliveries in one short transaction (`FOR UPDATE SKIP LOCKED`, moved a lease ahead),
sends them outside any transaction, then records the attempts in another: a receiver's slowness never holds a
database transaction, and two replicas never attempt the same delivery at once.
"""

from __future__ import annotations

import uuid

from referral.domain.commands.webhooks import (
    ClaimDueDeliveries,
    DeleteEndpoint,
    EnableEndpoint,
    ListDeliveries,
    ListEndpoints,
    PurgeDeliveryLog,
    ReadEndpoint,
    RecordAttempts,
    RecordDeliveries,
    Redeliver,
    RegisterEndpoint,
    RotateSecret,
)
from referral.domain.errors import Conflict, Forbidden, NotFound
from referral.domain.webhook_destinations import check_addresses, parse_url
from referral.domain.webhooks import (
    DeliveryStatus,
    Endpoint,
    Outgoing,
    ReferralNotice,
    SigningSecret,
    WebhookDelivery,
    deliveries_for,
)
from referral.service_layer.unit_of_work import ReferralUnitOfWork
from simpul_platform.callers import Caller

PROVIDER_ROLE = "provider"


class EndpointNotFound(NotFound):
    """No such endpoint of the caller's (the same answer when it is another provider's)."""

    title = "Webhook endpoint not found"

    def __init__(self) -> None:
        super().__init__("endpoint_id", "no such webhook endpoint")


def provider_of(by: Caller) -> str:
    """The provider a caller acts for: a provider token names exactly one."""
    if str(by.role) != PROVIDER_ROLE or len(by.scope) != 1:
        raise Forbidden("authorization", "only a provider manages its webhooks")
    return by.scope[0]


async def _mine(uow: ReferralUnitOfWork, by: Caller, endpoint_id: str, *, for_update: bool = False) -> Endpoint:
    endpoint = await uow.webhook_endpoints.get(endpoint_id, for_update=for_update)
    if endpoint is None or endpoint.provider_id != provider_of(by):
        raise EndpointNotFound()
    return endpoint


async def register_endpoint(command: RegisterEndpoint, uow: ReferralUnitOfWork) -> Endpoint:
    """A new endpoint for the caller's provider, after the SSRF guard judged its URL and addresses."""
    provider_id = provider_of(command.by)
    parts = parse_url(command.url, command.rule)
    check_addresses(parts.hostname or "", command.addresses, command.rule)
    if len(await uow.webhook_endpoints.of_providers([provider_id])) >= command.limit:
        raise Conflict("url", f"a provider has at most {command.limit} webhook endpoints")
    endpoint = Endpoint(command.endpoint_id, provider_id, command.url, command.event_types,
                        (SigningSecret(command.secret),), command.at)
    await uow.webhook_endpoints.add(endpoint)
    return endpoint


async def list_endpoints(command: ListEndpoints, uow: ReferralUnitOfWork) -> list[Endpoint]:
    """The caller's provider's endpoints, oldest first."""
    return await uow.webhook_endpoints.of_providers([provider_of(command.by)])


async def read_endpoint(command: ReadEndpoint, uow: ReferralUnitOfWork) -> Endpoint:
    """One of the caller's provider's endpoints."""
    return await _mine(uow, command.by, command.endpoint_id)


async def rotate_secret(command: RotateSecret, uow: ReferralUnitOfWork) -> Endpoint:
    """A new secret; the previous one keeps signing (a second signature) for the overlap."""
    endpoint = await _mine(uow, command.by, command.endpoint_id, for_update=True)
    endpoint.rotate(command.secret, command.at, command.overlap)
    await uow.webhook_endpoints.save(endpoint)
    return endpoint


async def enable_endpoint(command: EnableEndpoint, uow: ReferralUnitOfWork) -> Endpoint:
    """Enable a disabled endpoint again; what waited for it is delivered."""
    endpoint = await _mine(uow, command.by, command.endpoint_id, for_update=True)
    endpoint.enable()
    await uow.webhook_endpoints.save(endpoint)
    return endpoint


async def delete_endpoint(command: DeleteEndpoint, uow: ReferralUnitOfWork) -> None:
    """Forget the endpoint and its delivery log."""
    await _mine(uow, command.by, command.endpoint_id, for_update=True)
    await uow.webhook_endpoints.delete(command.endpoint_id)


async def record_deliveries(command: RecordDeliveries, uow: ReferralUnitOfWork) -> list[WebhookDelivery]:
    """A delivery, due now, per event and endpoint that wants it (in the consumer's transaction: exactly once)."""
    notices = [await _with_status(notice, uow) for notice in command.notices]
    endpoints = await uow.webhook_endpoints.of_providers({notice.provider_id for notice in notices})
    deliveries = [delivery for notice in notices
                  for delivery in deliveries_for(notice, endpoints, lambda: f"dlv_{uuid.uuid4().hex}", command.at)]
    await uow.webhook_deliveries.add(deliveries)
    return deliveries


async def _with_status(notice: ReferralNotice, uow: ReferralUnitOfWork) -> ReferralNotice:
    """An event that moves no status (overdue, escalated) tells the referral's status as it is."""
    if notice.status is not None:
        return notice
    referral = await uow.referrals.get(notice.referral_id)
    if referral is None:
        return notice
    return ReferralNotice(notice.event_id, notice.event_type, notice.referral_id, notice.provider_id,
                          str(referral.status), notice.at)


async def claim_due_deliveries(command: ClaimDueDeliveries, uow: ReferralUnitOfWork) -> list[Outgoing]:
    """The deliveries due now for this replica, as the sender needs them; none is due again within the lease."""
    claimed = await uow.webhook_deliveries.claim_due(command.now, command.now + command.lease, command.limit)
    endpoints = {e.endpoint_id: e for e in await uow.webhook_endpoints.of_providers({d.provider_id for d in claimed})}
    return [Outgoing(d.delivery_id, len(d.attempts) + 1, e.url, d.event_id, d.body, e.signing_secrets(command.now))
            for d in claimed if (e := endpoints.get(d.endpoint_id)) is not None]


async def record_attempts(command: RecordAttempts, uow: ReferralUnitOfWork) -> None:
    """Log each attempt and schedule what follows; an attempt whose delivery moved on meanwhile (deleted, or
    recorded by another replica after the lease ran out) is dropped."""
    for made in sorted(command.attempts, key=lambda m: m.delivery_id):
        delivery = await uow.webhook_deliveries.get(made.delivery_id, for_update=True)
        if delivery is None or not _awaits(delivery, made.number):
            continue
        endpoint = await uow.webhook_endpoints.get(delivery.endpoint_id, for_update=True)
        if endpoint is None:
            continue
        delivery.record(made.outcome, made.at, endpoint, schedule=command.schedule, policy=command.policy,
                        draw=made.draw)
        await uow.webhook_deliveries.save(delivery)
        await uow.webhook_endpoints.save(endpoint)


def _awaits(delivery: WebhookDelivery, number: int) -> bool:
    return delivery.status is DeliveryStatus.PENDING and len(delivery.attempts) + 1 == number


async def list_deliveries(command: ListDeliveries, uow: ReferralUnitOfWork) -> list[WebhookDelivery]:
    """The endpoint's delivery log, newest first."""
    endpoint = await _mine(uow, command.by, command.endpoint_id)
    return await uow.webhook_deliveries.of_endpoint(endpoint.endpoint_id, command.limit)


async def redeliver(command: Redeliver, uow: ReferralUnitOfWork) -> WebhookDelivery:
    """Send a delivery again now, with a fresh retry schedule."""
    endpoint = await _mine(uow, command.by, command.endpoint_id)
    delivery = await uow.webhook_deliveries.get(command.delivery_id, for_update=True)
    if delivery is None or delivery.endpoint_id != endpoint.endpoint_id:
        raise NotFound("delivery_id", "no such delivery of this endpoint")
    delivery.redeliver(endpoint, command.at)
    await uow.webhook_deliveries.save(delivery)
    return delivery


async def purge_delivery_log(command: PurgeDeliveryLog, uow: ReferralUnitOfWork) -> int:
    """Forget finished deliveries past the log's retention; how many went."""
    return await uow.webhook_deliveries.purge_finished(command.before, command.limit)
