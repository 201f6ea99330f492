"""Webhooks' pure rules: the SSRF guard's judgement of URLs and addresses, the retry schedule with jitter and
Retry-After, secret rotation, and what disables an endpoint."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json

import pytest

from referral.domain.errors import Conflict, Invalid
from referral.domain.webhook_destinations import DestinationRule, check_addresses, parse_url, refusal
from referral.domain.webhooks import (
    AttemptOutcome,
    DeliveryStatus,
    DisabledReason,
    DisablePolicy,
    Endpoint,
    EndpointStatus,
    ReferralNotice,
    RetrySchedule,
    SigningSecret,
    WebhookEventType,
    deliveries_for,
    new_secret,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
S, MIN, H, DAY = dt.timedelta(seconds=1), dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(days=1)
STANDARD = RetrySchedule((5 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 10 * H), jitter=0.1)
NONE = DestinationRule()
LOCAL = DestinationRule.from_entries(["127.0.0.1", "receiver.internal"])


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.0.0.1", "private"), ("172.16.5.4", "private"),
    ("192.168.1.1", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("240.0.0.1", "reserved"), ("fc00::1", "private"), ("100.64.0.1", "non-public"),
    ("::ffff:10.0.0.1", "private"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"),
    ("64:ff9b::a00:1", "private"), ("2002:a00:1::", "private"),
])
def test_the_guard_refuses_every_non_public_address_naming_why(address: str, why: str) -> None:
    reason = refusal(ip(address))
    assert reason is not None
    assert why in reason
    with pytest.raises(Invalid) as refused:
        check_addresses("receiver.example", [ip("93.184.216.34"), ip(address)], NONE)  # one bad address is enough
    assert refused.value.field == "url"
    assert why in refused.value.reason


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ip(address)) is None
    check_addresses("receiver.example", [ip(address)], NONE)


def test_the_configuration_allows_hosts_and_networks_and_nothing_more() -> None:
    check_addresses("127.0.0.1", [ip("127.0.0.1")], LOCAL)
    check_addresses("receiver.internal", [ip("10.9.9.9")], LOCAL)
    check_addresses("10.1.2.3", [ip("10.1.2.3")], DestinationRule.from_entries(["10.1.0.0/16"]))
    with pytest.raises(Invalid, match="loopback"):
        check_addresses("127.0.0.2", [ip("127.0.0.2")], LOCAL)
    with pytest.raises(Invalid, match="loopback"):
        check_addresses("::1", [ip("::1")], LOCAL)
    with pytest.raises(Invalid, match="does not resolve"):
        check_addresses("nowhere.example", [], NONE)


@pytest.mark.parametrize(("url", "reason"), [
    ("ftp://receiver.example/hook", "https"), ("http://receiver.example/hook", "https"), ("https:///hook", "host"),
    ("https://user:pw@receiver.example/", "credentials"), ("https://receiver.example/#x", "fragment"),
    ("https://receiver.example:99999/", "port"), ("https://receiver.example/" + "a" * 2100, "2048"),
    ("http://127.0.0.2:8080/", "https"),
])
def test_urls_are_refused_naming_the_rule(url: str, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_url(url, LOCAL)
    assert refused.value.field == "url"
    assert reason in refused.value.reason


def test_http_is_allowed_only_to_an_allowed_destination() -> None:
    assert parse_url("http://127.0.0.1:8080/hook", LOCAL).port == 8080
    assert parse_url("https://receiver.example/hook", NONE).hostname == "receiver.example"


def test_the_schedule_waits_the_standard_steps_with_bounded_jitter_then_gives_up() -> None:
    steps = [STANDARD.next_attempt_at(failed, T0, None, 0.5) for failed in range(1, 8)]
    assert [s - T0 for s in steps if s] == list(STANDARD.delays)
    assert STANDARD.next_attempt_at(8, T0, None, 0.5) is None
    low, high = STANDARD.next_attempt_at(2, T0, None, 0.0), STANDARD.next_attempt_at(2, T0, None, 0.999999)
    assert low is not None
    assert high is not None
    assert low - T0 == 270 * S
    assert 329 * S < high - T0 <= 330 * S


def test_retry_after_lengthens_a_wait_up_to_the_cap_and_never_shortens_it() -> None:
    capped = RetrySchedule((5 * S, 5 * MIN), jitter=0, retry_after_cap=H)
    assert capped.next_attempt_at(1, T0, 120 * S, 0.5) == T0 + 120 * S
    assert capped.next_attempt_at(1, T0, 1 * S, 0.5) == T0 + 5 * S
    assert capped.next_attempt_at(1, T0, 3 * DAY, 0.5) == T0 + H


def endpoint(*types: WebhookEventType, provider_id: str = "prv_1") -> Endpoint:
    return Endpoint("whe_1", provider_id, "https://receiver.example/hook", frozenset(types or WebhookEventType),
                    (SigningSecret(new_secret()),), T0)


def test_rotation_keeps_the_previous_secret_signing_for_the_overlap_only() -> None:
    hook = endpoint()
    first = hook.signing_secrets(T0)
    second = new_secret()
    hook.rotate(second, T0, H)
    assert hook.signing_secrets(T0 + 59 * MIN) == (second, *first)
    assert hook.signing_secrets(T0 + H) == (second,)
    third = new_secret()
    hook.rotate(third, T0 + 10 * MIN, H)  # the first secret stops at once; the second keeps an hour
    assert hook.signing_secrets(T0 + 11 * MIN) == (third, second)
    with pytest.raises(Invalid):
        hook.rotate("not-a-secret", T0, H)


def notice(event_type: WebhookEventType = WebhookEventType.ACCEPTED, provider_id: str = "prv_1") -> ReferralNotice:
    return ReferralNotice("evt_1", event_type, "ref_1", provider_id, "accepted", T0)


def test_the_body_is_thin_and_deliveries_go_to_the_endpoints_that_want_the_event() -> None:
    assert json.loads(notice().body()) == {"type": "referral.accepted", "timestamp": "2026-03-02T09:00:00Z",
                                           "data": {"referral_id": "ref_1", "status": "accepted"}}
    wanted, other_type = endpoint(WebhookEventType.ACCEPTED), endpoint(WebhookEventType.ISSUED)
    other_type.endpoint_id = "whe_2"
    disabled = endpoint()
    disabled.endpoint_id = "whe_3"
    disabled.disable(DisabledReason.GONE, T0)
    elsewhere = endpoint(provider_id="prv_2")
    elsewhere.endpoint_id = "whe_4"
    ids = iter(["dlv_a", "dlv_b"])
    [delivery] = deliveries_for(notice(), [wanted, other_type, disabled, elsewhere], lambda: next(ids), T0)
    assert (delivery.endpoint_id, delivery.event_id, delivery.next_attempt_at) == ("whe_1", "evt_1", T0)


FAIL = AttemptOutcome(503, 12, "HTTP 503")


def test_only_2xx_counts_410_disables_at_once_and_the_log_keeps_each_attempt() -> None:
    hook = endpoint()
    [delivery] = deliveries_for(notice(), [hook], lambda: "dlv_1", T0)
    delivery.record(FAIL, T0, hook, schedule=STANDARD, policy=DisablePolicy(), draw=0.5)
    delivery.record(AttemptOutcome(302, 3, "HTTP 302"), T0 + 5 * S, hook, schedule=STANDARD, policy=DisablePolicy(),
                    draw=0.5)
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.next_attempt_at == T0 + 5 * S + 5 * MIN
    assert hook.failing_since == T0
    delivery.record(AttemptOutcome(204, 8), T0 + 6 * MIN, hook, schedule=STANDARD, policy=DisablePolicy(), draw=0.5)
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert delivery.next_attempt_at is None
    assert [a.status_code for a in delivery.attempts] == [503, 302, 204]
    assert hook.failing_since is None
    [gone] = deliveries_for(notice(), [hook], lambda: "dlv_2", T0)
    gone.record(AttemptOutcome(410, 4, "HTTP 410"), T0, hook, schedule=STANDARD, policy=DisablePolicy(), draw=0.5)
    assert gone.status is DeliveryStatus.FAILED
    assert (hook.status, hook.disabled_reason) == (EndpointStatus.DISABLED, DisabledReason.GONE)
    with pytest.raises(Conflict):
        gone.redeliver(hook, T0)
    hook.enable()
    gone.redeliver(hook, T0 + H)
    assert (gone.status, gone.next_attempt_at, gone.retry_from) == (DeliveryStatus.PENDING, T0 + H, 1)


def test_sustained_failure_disables_after_the_configured_days() -> None:
    hook, policy = endpoint(), DisablePolicy(failing_for=2 * DAY, exhausted_in_a_row=0)
    [delivery] = deliveries_for(notice(), [hook], lambda: "dlv_1", T0)
    delivery.record(FAIL, T0, hook, schedule=STANDARD, policy=policy, draw=0.5)
    delivery.record(FAIL, T0 + DAY, hook, schedule=STANDARD, policy=policy, draw=0.5)
    assert hook.status is EndpointStatus.ENABLED
    delivery.record(FAIL, T0 + 2 * DAY, hook, schedule=STANDARD, policy=policy, draw=0.5)
    assert (hook.status, hook.disabled_reason) == (EndpointStatus.DISABLED, DisabledReason.SUSTAINED_FAILURE)


def test_deliveries_exhausted_in_a_row_disable_and_a_success_resets_the_count() -> None:
    short = RetrySchedule((S,), jitter=0)
    hook, policy = endpoint(), DisablePolicy(failing_for=30 * DAY, exhausted_in_a_row=2)

    def exhaust(delivery_id: str, at: dt.datetime) -> None:
        [delivery] = deliveries_for(notice(), [hook], lambda: delivery_id, at)
        delivery.record(FAIL, at, hook, schedule=short, policy=policy, draw=0.5)
        delivery.record(FAIL, at + S, hook, schedule=short, policy=policy, draw=0.5)
        assert delivery.status is DeliveryStatus.FAILED

    exhaust("dlv_1", T0)
    [ok] = deliveries_for(notice(), [hook], lambda: "dlv_ok", T0)
    ok.record(AttemptOutcome(200, 1), T0 + MIN, hook, schedule=short, policy=policy, draw=0.5)
    exhaust("dlv_2", T0 + H)
    assert hook.status is EndpointStatus.ENABLED
    exhaust("dlv_3", T0 + 2 * H)
    assert (hook.status, hook.disabled_reason) == (EndpointStatus.DISABLED, DisabledReason.DELIVERIES_EXHAUSTED)
