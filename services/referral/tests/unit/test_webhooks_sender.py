"""The webhook sender over a mock transport: Standard Webhooks headers a `standardwebhooks` receiver verifies (two
signatures during a rotation), the connection pinned to the address the guard judged, no redirects, the guard again
at send time, bounded attempts, Retry-After read as seconds or an HTTP date."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import ipaddress
import time

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from referral.adapters.webhook_sender import WebhookSender, retry_after
from referral.domain.webhook_destinations import DestinationRule
from referral.domain.webhooks import Outgoing, new_secret

OLD, NEW = new_secret(), new_secret()
BODY = '{"type":"referral.accepted","timestamp":"2026-03-02T09:00:00Z","data":{"referral_id":"r","status":"accepted"}}'


def outgoing(url: str = "https://receiver.example/hook?x=1", secrets: tuple[str, ...] = (NEW,)) -> Outgoing:
    return Outgoing("dlv_1", 1, url, "evt_1", BODY, secrets)


def resolving_to(address: str):  # type: ignore[no-untyped-def]
    async def resolver(host: str, port: int) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
        return (ipaddress.ip_address(address),)
    return resolver


async def send(handler, address: str = "93.184.216.34", one: Outgoing | None = None,  # type: ignore[no-untyped-def]
               seconds: float = 5):
    sender = WebhookSender(DestinationRule(), seconds, resolver=resolving_to(address),
                           transport=httpx.MockTransport(handler))
    [outcome] = await sender.send_all([one or outgoing()], dt.datetime.now(dt.UTC))
    return outcome


async def test_the_receiver_verifies_both_signatures_of_a_rotation_on_the_pinned_connection() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    outcome = await send(handler, one=outgoing(secrets=(NEW, OLD)))
    assert (outcome.status_code, outcome.error) == (204, None)
    [request] = seen
    assert str(request.url) == "https://93.184.216.34/hook?x=1"  # the judged address, the default port
    assert request.headers["host"] == "receiver.example"
    assert request.extensions["sni_hostname"] == "receiver.example"
    assert request.headers["content-type"] == "application/json"
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (NEW, OLD):  # a receiver holding either secret accepts it
        assert Webhook(secret).verify(request.content, dict(request.headers))["type"] == "referral.accepted"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(request.content, dict(request.headers))
    tampered = dict(request.headers) | {"webhook-id": "evt_2"}
    with pytest.raises(WebhookVerificationError):
        Webhook(NEW).verify(request.content, tampered)


async def test_an_ipv6_destination_is_bracketed() -> None:
    seen: list[httpx.Request] = []
    outcome = await send(lambda r: seen.append(r) or httpx.Response(200), address="2606:2800:220:1:248:1893:25c8:1946")
    assert outcome.status_code == 200
    assert seen[0].url.host == "2606:2800:220:1:248:1893:25c8:1946"


async def test_redirects_are_not_followed_and_count_as_failures() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    outcome = await send(handler)
    assert (outcome.status_code, outcome.error, len(seen)) == (302, "HTTP 302", 1)


@pytest.mark.parametrize("address", ["10.0.0.1", "169.254.169.254", "::1", "::ffff:127.0.0.1"])
async def test_a_host_resolving_to_a_private_address_at_send_time_is_not_contacted(address: str) -> None:
    seen: list[httpx.Request] = []
    outcome = await send(lambda r: seen.append(r) or httpx.Response(200), address=address)
    assert outcome.status_code is None
    assert outcome.error
    assert outcome.error.startswith("refused destination")
    assert seen == []


async def test_an_attempt_never_outlasts_the_timeout_and_a_dead_receiver_is_named() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200)

    started = time.perf_counter()
    outcome = await send(slow, seconds=0.2)
    assert outcome.error == "timeout"
    assert time.perf_counter() - started < 2

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    assert (await send(refused)).error == "connection failed (ConnectError)"

    def broken(request: httpx.Request) -> httpx.Response:  # anything unforeseen fails one attempt, not the round
        raise RuntimeError("unforeseen")

    assert (await send(broken)).error == "failed (RuntimeError)"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    assert retry_after("120", now) == dt.timedelta(seconds=120)
    later = email.utils.format_datetime(now + dt.timedelta(minutes=5), usegmt=True)
    assert retry_after(later, now) == dt.timedelta(minutes=5)
    earlier = email.utils.format_datetime(now - dt.timedelta(minutes=5), usegmt=True)
    assert retry_after(earlier, now) == dt.timedelta(0)
    assert retry_after("9" * 5000, now) == retry_after("99999999", now) == dt.timedelta(days=366)  # at most a year
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None
