"""One suite, three stores: referral's webhook repositories on the fake and, through migration 0010, on SQLite and
PostgreSQL agree: endpoints load back as saved (secrets encrypted at rest), a delivery per event and endpoint once,
due deliveries of enabled endpoints come earliest first and move to the lease's end, attempts are appended, the log
is newest first, an endpoint goes with its deliveries; and on PostgreSQL two transactions claiming at once never
get the same delivery (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from referral.adapters.orm import audit_log, delivery
from referral.bootstrap import MIGRATIONS
from referral.domain.webhooks import (
    Attempt,
    DeliveryStatus,
    DisabledReason,
    Endpoint,
    SigningSecret,
    WebhookDelivery,
    WebhookEventType,
)
from referral.service_layer.fake import FakeReferralUnitOfWork
from referral.service_layer.unit_of_work import ReferralUnitOfWork, SqlReferralUnitOfWork
from simpul_platform.database import Database
from simpul_platform.field_encryption import development_keyring
from simpul_platform.migrations import upgrade
from tests.support.database import scalar

WIB = dt.timezone(dt.timedelta(hours=7))
AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=WIB)
MINUTE, HOUR = dt.timedelta(minutes=1), dt.timedelta(hours=1)
SECRET = "whsec_" + "A" * 43 + "="
NewUow = Callable[[], ReferralUnitOfWork]


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[NewUow, str | None]]:
    """A factory of units of work over one fresh store, and its URL (None for the fake)."""
    if request.param == "fake":
        fake = FakeReferralUnitOfWork()
        yield (lambda: fake), None
        return
    url = (f"sqlite+aiosqlite:///{tmp_path / 'referral.db'}" if request.param == "sqlite"
           else request.getfixturevalue("make_database")("referral"))
    await upgrade(url, MIGRATIONS)
    database = Database(url, keyring=development_keyring())
    yield (lambda: SqlReferralUnitOfWork(database, delivery, audit_log)), url
    await database.dispose()


def endpoint(endpoint_id: str = "whe_1", provider_id: str = "prv_1") -> Endpoint:
    return Endpoint(endpoint_id, provider_id, "https://receiver.example/hook",
                    frozenset({WebhookEventType.ISSUED, WebhookEventType.ACCEPTED}),
                    (SigningSecret(SECRET), SigningSecret("whsec_" + "B" * 43 + "=", AT + HOUR)), AT)


def delivery_of(delivery_id: str, endpoint_id: str = "whe_1", event_id: str | None = None,
                due: dt.datetime = AT) -> WebhookDelivery:
    return WebhookDelivery(delivery_id, endpoint_id, "prv_1", event_id or f"evt_{delivery_id}",
                           WebhookEventType.ISSUED, '{"type":"referral.issued"}', AT, next_attempt_at=due)


async def keep(new_uow: NewUow, *endpoints: Endpoint, deliveries: tuple[WebhookDelivery, ...] = ()) -> None:
    async with new_uow() as uow:
        for one in endpoints:
            await uow.webhook_endpoints.add(one)
        await uow.webhook_deliveries.add(deliveries)
        await uow.commit()


async def claim(new_uow: NewUow, now: dt.datetime, limit: int = 10) -> list[str]:
    async with new_uow() as uow:
        claimed = await uow.webhook_deliveries.claim_due(now, now + MINUTE, limit)
        await uow.commit()
    return [d.delivery_id for d in claimed]


async def test_endpoints_load_back_as_saved_with_their_secrets_encrypted_at_rest(
        store: tuple[NewUow, str | None]) -> None:
    new_uow, url = store
    await keep(new_uow, endpoint(), endpoint("whe_2", "prv_2"))
    async with new_uow() as uow:
        assert await uow.webhook_endpoints.get("whe_1") == endpoint()
        assert [e.endpoint_id for e in await uow.webhook_endpoints.of_providers(["prv_1", "prv_x"])] == ["whe_1"]
        changed = endpoint()
        changed.disable(DisabledReason.GONE, AT + HOUR)
        changed.failing_since, changed.exhausted_in_a_row = AT, 2
        await uow.webhook_endpoints.save(changed)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.webhook_endpoints.get("whe_1", for_update=True) == changed
    if url is not None:  # what the database holds is a token, not the secret
        stored = await scalar(url, text("SELECT secrets FROM webhook_endpoints WHERE endpoint_id = 'whe_1'"))
        assert SECRET not in stored
        assert "A" * 20 not in stored


async def test_one_delivery_per_event_and_endpoint_and_only_due_ones_of_enabled_endpoints_are_claimed(
        store: tuple[NewUow, str | None]) -> None:
    new_uow, _ = store
    gone = endpoint("whe_gone")
    gone.disable(DisabledReason.GONE, AT)
    await keep(new_uow, endpoint(), gone, deliveries=(
        delivery_of("dlv_b", due=AT + 2 * MINUTE), delivery_of("dlv_a", due=AT.astimezone(dt.UTC)),
        delivery_of("dlv_later", due=AT + HOUR), delivery_of("dlv_off", "whe_gone")))
    await keep(new_uow, deliveries=(delivery_of("dlv_dup", event_id="evt_dlv_a"),))  # the same event again
    assert await claim(new_uow, AT - MINUTE) == []
    assert await claim(new_uow, AT + 2 * MINUTE, limit=1) == ["dlv_a"]
    assert await claim(new_uow, AT + 2 * MINUTE) == ["dlv_b"]  # dlv_a is leased a minute ahead
    assert await claim(new_uow, AT + 3 * MINUTE + dt.timedelta(seconds=1)) == ["dlv_a", "dlv_b"]  # leases ran out
    async with new_uow() as uow:
        assert await uow.webhook_deliveries.get("dlv_dup") is None


async def test_attempts_are_appended_the_log_is_newest_first_and_an_endpoint_goes_with_its_deliveries(
        store: tuple[NewUow, str | None]) -> None:
    new_uow, _ = store
    older, newer = delivery_of("dlv_1"), delivery_of("dlv_2")
    newer.created_at = AT + MINUTE
    await keep(new_uow, endpoint(), deliveries=(older, newer))
    for number, status in ((1, 500), (2, 204)):
        async with new_uow() as uow:
            held = await uow.webhook_deliveries.get("dlv_1", for_update=True)
            assert held is not None
            assert len(held.attempts) == number - 1
            error = "HTTP 500" if status == 500 else None
            held.attempts.append(Attempt(number, AT + number * MINUTE, status, 12, error))
            held.status = DeliveryStatus.SUCCEEDED if status == 204 else DeliveryStatus.PENDING
            held.next_attempt_at = None if status == 204 else AT + HOUR
            await uow.webhook_deliveries.save(held)
            await uow.commit()
    async with new_uow() as uow:
        log = await uow.webhook_deliveries.of_endpoint("whe_1", 10)
        assert [d.delivery_id for d in log] == ["dlv_2", "dlv_1"]
        assert [(a.number, a.status_code, a.error) for a in log[1].attempts] == [(1, 500, "HTTP 500"), (2, 204, None)]
        assert (log[1].status, log[1].next_attempt_at) == (DeliveryStatus.SUCCEEDED, None)
        await uow.webhook_endpoints.delete("whe_1")
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.webhook_endpoints.get("whe_1") is None
        assert await uow.webhook_deliveries.get("dlv_1") is None
        assert await uow.webhook_deliveries.of_endpoint("whe_1", 10) == []


async def test_the_purge_takes_finished_deliveries_older_than_the_cut_oldest_first(
        store: tuple[NewUow, str | None]) -> None:
    new_uow, _ = store
    deliveries = [delivery_of(f"dlv_{n}") for n in range(4)]
    for n, one in enumerate(deliveries):
        one.created_at = AT + n * MINUTE
        one.status = DeliveryStatus.PENDING if n == 1 else DeliveryStatus.SUCCEEDED
        one.attempts = [Attempt(1, one.created_at, 200, 3)]
    await keep(new_uow, endpoint(), deliveries=tuple(deliveries))
    for one in deliveries:
        async with new_uow() as uow:
            await uow.webhook_deliveries.save(one)
            await uow.commit()
    async with new_uow() as uow:
        assert await uow.webhook_deliveries.purge_finished(AT + 3 * MINUTE, 1) == 1
        assert await uow.webhook_deliveries.purge_finished(AT + 3 * MINUTE, 10) == 1
        await uow.commit()
    async with new_uow() as uow:
        assert sorted(d.delivery_id for d in await uow.webhook_deliveries.of_endpoint("whe_1", 10)) == [
            "dlv_1", "dlv_3"]


@pytest.mark.postgres
async def test_two_transactions_claiming_at_once_never_get_the_same_delivery(
        make_database: Callable[[str], str]) -> None:
    url = make_database("referral")
    await upgrade(url, MIGRATIONS)
    database = Database(url, keyring=development_keyring())
    try:
        units = lambda: SqlReferralUnitOfWork(database, delivery, audit_log)  # noqa: E731
        await keep(units, endpoint(), deliveries=tuple(delivery_of(f"dlv_{n}", due=AT + n * MINUTE)
                                                       for n in range(6)))
        async with units() as first:
            held = await first.webhook_deliveries.claim_due(AT + HOUR, AT + 2 * HOUR, 4)
            async with units() as second:
                others = await asyncio.wait_for(second.webhook_deliveries.claim_due(AT + HOUR, AT + 2 * HOUR, 4),
                                                timeout=10)
        assert ([d.delivery_id for d in held], [d.delivery_id for d in others]) == (
            ["dlv_0", "dlv_1", "dlv_2", "dlv_3"], ["dlv_4", "dlv_5"])
    finally:
        await database.dispose()
