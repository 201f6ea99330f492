"""Webhooks' use cases against the fake, with the real sender over a mock transport: a provider's endpoints and
secrets, one delivery per event and endpoint, the job's retries with the delivery log, 410, redelivery, scope."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from collections.abc import Callable

import httpx
import pytest
from standardwebhooks import Webhook

import simpul_contracts.events.referral.referrals as wire
from referral.adapters.contract_mapping import NOTIFIED_EVENTS, referral_notice
from referral.adapters.webhook_sender import WebhookSender
from referral.config import ReferralSettings
from referral.domain.commands.webhooks import (
    DeleteEndpoint,
    EnableEndpoint,
    ListDeliveries,
    ListEndpoints,
    ReadEndpoint,
    RecordDeliveries,
    Redeliver,
    RegisterEndpoint,
    RotateSecret,
)
from referral.domain.errors import Conflict, Forbidden, Invalid, NotFound
from referral.domain.webhook_destinations import DestinationRule
from referral.domain.webhooks import DeliveryStatus, DisabledReason, Endpoint, EndpointStatus, WebhookEventType
from referral.entrypoints.http.provider_webhook_schemas import WebhookPayload
from referral.entrypoints.webhook_attempts import DeliveryRules, attempt_due_deliveries, purge_old_deliveries
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.handlers import webhooks as handlers
from simpul_platform.auth import Principal, Role
from simpul_platform.unit_of_work import execute

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PROVIDER = Principal("client-lpa", Role.PROVIDER, ("prv_lpa",))
OTHER_PROVIDER = Principal("client-other", Role.PROVIDER, ("prv_other",))
OFFICER = Principal("officer-jember", Role.DISTRICT_OFFICER, ("35.09",))
PUBLIC = (ipaddress.ip_address("93.184.216.34"),)
RULE = DestinationRule()
URL = "https://receiver.example/hook"
FAST = ReferralSettings(webhook_retry_schedule_seconds=(1, 2), webhook_retry_jitter=0,
                        webhook_disable_after_exhausted=0)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def register(by: Principal = PROVIDER, url: str = URL, addresses: tuple[object, ...] = PUBLIC,
             types: frozenset[WebhookEventType] = frozenset(WebhookEventType), endpoint_id: str = "whe_1",
             limit: int = 10) -> RegisterEndpoint:
    return RegisterEndpoint(by, endpoint_id, url, types, addresses, RULE, f"whsec_{'A' * 43}=", T0,  # type: ignore[arg-type]
                            limit)


async def registered(uow: FakeReferralUnitOfWork, **kwargs: object) -> Endpoint:
    return await execute(uow, handlers.register_endpoint, register(**kwargs))  # type: ignore[arg-type]


def accepted(provider_id: str = "prv_lpa") -> wire.ReferralAcceptedV1:
    return wire.ReferralAcceptedV1(referral_id="ref_1", provider_id=provider_id, by="client-lpa", at=T0)


async def record(uow: FakeReferralUnitOfWork, *events: tuple[wire.ReferralEvent, str]) -> None:
    notices = tuple(referral_notice(event, event_id) for event, event_id in events)
    await execute(uow, handlers.record_deliveries, RecordDeliveries(notices, T0))


def receiver(answers: list[int], seen: list[httpx.Request],
             headers: Callable[[int], dict[str, str]] = lambda status: {}) -> WebhookSender:
    """A sender whose receiver answers `answers` in turn (then 200); every request lands in `seen`."""
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = answers.pop(0) if answers else 200
        return httpx.Response(status, headers=headers(status))

    async def resolver(host: str, port: int) -> tuple[ipaddress.IPv4Address, ...]:
        return (ipaddress.IPv4Address("93.184.216.34"),)
    return WebhookSender(RULE, 5, resolver=resolver, transport=httpx.MockTransport(handle))


def test_every_referral_event_but_a_person_change_is_a_webhook_event_once() -> None:
    events = {c for c in vars(wire).values() if isinstance(c, type) and issubclass(c, wire.ReferralEvent)
              and c is not wire.ReferralEvent}
    assert set(NOTIFIED_EVENTS) == events - {wire.ReferralPersonChangedV1}
    kinds = [referral_notice(cls.model_construct(referral_id="r", provider_id="p", at=T0), "e").event_type
             for cls in NOTIFIED_EVENTS]
    assert sorted(kinds) == sorted(WebhookEventType)


async def test_a_provider_registers_lists_rotates_and_deletes_its_own_endpoints_only() -> None:
    uow = FakeReferralUnitOfWork()
    endpoint = await registered(uow)
    assert (endpoint.provider_id, endpoint.status) == ("prv_lpa", EndpointStatus.ENABLED)
    [listed] = await execute(uow, handlers.list_endpoints, ListEndpoints(PROVIDER))
    assert listed.endpoint_id == "whe_1"
    assert await execute(uow, handlers.list_endpoints, ListEndpoints(OTHER_PROVIDER)) == []
    for command in (ReadEndpoint(OTHER_PROVIDER, "whe_1"), DeleteEndpoint(OTHER_PROVIDER, "whe_1"),
                    ListDeliveries(OTHER_PROVIDER, "whe_1")):
        with pytest.raises(NotFound):
            await execute(uow, getattr(handlers, {ReadEndpoint: "read_endpoint", DeleteEndpoint: "delete_endpoint",
                                                  ListDeliveries: "list_deliveries"}[type(command)]), command)
    with pytest.raises(Forbidden):
        await execute(uow, handlers.list_endpoints, ListEndpoints(OFFICER))
    first = endpoint.signing_secrets(T0)
    rotated = await execute(uow, handlers.rotate_secret, RotateSecret(PROVIDER, "whe_1", f"whsec_{'B' * 43}=", T0,
                                                                      dt.timedelta(hours=1)))
    assert rotated.signing_secrets(T0) == (f"whsec_{'B' * 43}=", *first)
    await execute(uow, handlers.delete_endpoint, DeleteEndpoint(PROVIDER, "whe_1"))
    assert await execute(uow, handlers.list_endpoints, ListEndpoints(PROVIDER)) == []


async def test_registration_refuses_private_destinations_and_too_many_endpoints_changing_nothing() -> None:
    uow = FakeReferralUnitOfWork()
    for address in ("10.0.0.1", "169.254.169.254", "::1", "::ffff:127.0.0.1"):
        with pytest.raises(Invalid) as refused:
            await registered(uow, addresses=(ipaddress.ip_address(address),))
        assert refused.value.field == "url"
    with pytest.raises(Invalid, match="https"):
        await registered(uow, url="http://receiver.example/hook")
    assert uow.webhook_endpoints.endpoints == {}
    await registered(uow, limit=1)
    with pytest.raises(Conflict, match="at most 1"):
        await registered(uow, endpoint_id="whe_2", limit=1)


async def test_each_event_makes_one_delivery_per_endpoint_that_wants_it() -> None:
    uow = FakeReferralUnitOfWork()
    await registered(uow)
    await registered(uow, endpoint_id="whe_issued", types=frozenset({WebhookEventType.ISSUED}))
    await registered(uow, by=OTHER_PROVIDER, endpoint_id="whe_other")
    await record(uow, (accepted(), "evt_1"), (accepted(provider_id="prv_nobody"), "evt_2"))
    await record(uow, (accepted(), "evt_1"))  # the same event again (the inbox stops it first; the store too)
    [delivery] = uow.webhook_deliveries.deliveries.values()
    assert (delivery.endpoint_id, delivery.event_id, delivery.status) == ("whe_1", "evt_1", DeliveryStatus.PENDING)
    assert json.loads(delivery.body)["data"] == {"referral_id": "ref_1", "status": "accepted"}


async def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt_signed_the_same_way() -> None:
    uow, clock, seen = FakeReferralUnitOfWork(), Clock(), []
    endpoint = await registered(uow)
    await record(uow, (accepted(), "evt_1"))
    sender, rules = receiver([500, 503], seen), DeliveryRules.from_settings(FAST)
    assert await attempt_due_deliveries(lambda: uow, sender, clock, rules) == 1
    assert await attempt_due_deliveries(lambda: uow, sender, clock, rules) == 0  # not due again yet
    clock.now += dt.timedelta(seconds=1)
    assert await attempt_due_deliveries(lambda: uow, sender, clock, rules) == 1
    clock.now += dt.timedelta(seconds=2)
    assert await attempt_due_deliveries(lambda: uow, sender, clock, rules) == 1
    [log] = await execute(uow, handlers.list_deliveries, ListDeliveries(PROVIDER, "whe_1"))
    assert log.status is DeliveryStatus.SUCCEEDED
    assert [(a.number, a.status_code, a.error) for a in log.attempts] == [(1, 500, "HTTP 500"), (2, 503, "HTTP 503"),
                                                                          (3, 200, None)]
    assert {r.headers["webhook-id"] for r in seen} == {"evt_1"}
    assert {r.content for r in seen} == {log.body.encode()}
    [secret] = endpoint.signing_secrets(T0)
    for request in seen:  # the receiver's check (Webhook.verify also checks the timestamp against the real clock)
        at = dt.datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), dt.UTC)
        expected = Webhook(secret).sign(request.headers["webhook-id"], at, request.content.decode())
        assert request.headers["webhook-signature"] == expected
    assert [r.headers["webhook-timestamp"] for r in seen] == [str(int(t.timestamp())) for t in
                                                              (T0, T0 + dt.timedelta(seconds=1),
                                                               T0 + dt.timedelta(seconds=3))]


async def test_410_disables_the_endpoint_and_deliveries_wait_until_it_is_enabled_again() -> None:
    uow, clock, seen = FakeReferralUnitOfWork(), Clock(), []
    await registered(uow)
    await record(uow, (accepted(), "evt_1"))
    rules = DeliveryRules.from_settings(FAST)
    await attempt_due_deliveries(lambda: uow, receiver([410], seen), clock, rules)
    [endpoint] = await execute(uow, handlers.list_endpoints, ListEndpoints(PROVIDER))
    assert (endpoint.status, endpoint.disabled_reason) == (EndpointStatus.DISABLED, DisabledReason.GONE)
    await record(uow, (accepted(), "evt_2"))  # a disabled endpoint gets no new delivery
    [gone] = await execute(uow, handlers.list_deliveries, ListDeliveries(PROVIDER, "whe_1"))
    with pytest.raises(Conflict, match="disabled"):
        await execute(uow, handlers.redeliver, Redeliver(PROVIDER, "whe_1", gone.delivery_id, T0))
    await execute(uow, handlers.enable_endpoint, EnableEndpoint(PROVIDER, "whe_1"))
    await execute(uow, handlers.redeliver, Redeliver(PROVIDER, "whe_1", gone.delivery_id, clock.now))
    assert await attempt_due_deliveries(lambda: uow, receiver([], seen), clock, rules) == 1
    [again] = await execute(uow, handlers.list_deliveries, ListDeliveries(PROVIDER, "whe_1"))
    assert [a.status_code for a in again.attempts] == [410, 200]
    assert again.status is DeliveryStatus.SUCCEEDED
    with pytest.raises(NotFound):
        await execute(uow, handlers.redeliver, Redeliver(OTHER_PROVIDER, "whe_1", gone.delivery_id, T0))


async def test_retry_after_is_honoured_and_exhausted_retries_fail_the_delivery() -> None:
    uow, clock, seen = FakeReferralUnitOfWork(), Clock(), []
    await registered(uow)
    await record(uow, (accepted(), "evt_1"))
    sender = receiver([429, 503, 503], seen, headers=lambda status: {"Retry-After": "30"} if status == 429 else {})
    rules = DeliveryRules.from_settings(FAST)
    await attempt_due_deliveries(lambda: uow, sender, clock, rules)
    [waiting] = uow.webhook_deliveries.deliveries.values()
    assert waiting.next_attempt_at == T0 + dt.timedelta(seconds=30)
    clock.now += dt.timedelta(seconds=30)
    await attempt_due_deliveries(lambda: uow, sender, clock, rules)
    clock.now += dt.timedelta(seconds=2)
    await attempt_due_deliveries(lambda: uow, sender, clock, rules)
    [failed] = uow.webhook_deliveries.deliveries.values()
    assert failed.status is DeliveryStatus.FAILED
    assert len(failed.attempts) == 3
    assert failed.next_attempt_at is None


async def test_a_retry_after_beyond_any_date_waits_the_cap_and_the_round_is_recorded() -> None:
    uow, clock, seen = FakeReferralUnitOfWork(), Clock(), []
    await registered(uow)
    await record(uow, (accepted(), "evt_1"))
    # More seconds than a timedelta holds: reading it raised, the round's attempts went unrecorded and were sent
    # again every round.
    sender = receiver([503], seen, headers=lambda status: {"Retry-After": "9" * 20})
    await attempt_due_deliveries(lambda: uow, sender, clock, DeliveryRules.from_settings(FAST))
    [waiting] = uow.webhook_deliveries.deliveries.values()
    assert len(waiting.attempts) == 1
    assert waiting.next_attempt_at == T0 + dt.timedelta(seconds=FAST.webhook_retry_after_cap_seconds)


async def test_the_purge_forgets_finished_deliveries_past_the_retention_and_keeps_the_rest() -> None:
    uow, clock, seen = FakeReferralUnitOfWork(), Clock(), []
    await registered(uow)
    for event_id, status in (("evt_done", 200), ("evt_waiting", 503)):
        await record(uow, (accepted(), event_id))
        await attempt_due_deliveries(lambda: uow, receiver([status], seen), clock, DeliveryRules.from_settings(FAST))
    statuses = {d.event_id: d.status for d in uow.webhook_deliveries.deliveries.values()}
    assert statuses == {"evt_done": DeliveryStatus.SUCCEEDED, "evt_waiting": DeliveryStatus.PENDING}
    clock.now = T0 + dt.timedelta(days=30) - dt.timedelta(seconds=1)
    assert await purge_old_deliveries(lambda: uow, clock, dt.timedelta(days=30), limit=1) == 0
    clock.now = T0 + dt.timedelta(days=31)
    assert await purge_old_deliveries(lambda: uow, clock, dt.timedelta(days=30), limit=1) == 1
    assert [d.event_id for d in uow.webhook_deliveries.deliveries.values()] == ["evt_waiting"]


def test_the_documented_payload_is_the_body_sent() -> None:
    body = referral_notice(accepted(), "evt_1").body()
    assert WebhookPayload.model_validate_json(body).model_dump(mode="json") == json.loads(body)
