"""Sends webhook deliveries as Standard Webhooks requests, behind the SSRF guard.

Each attempt resolves the host again and judges every address (`domain.webhook_destinations`: DNS can change since
registration), then connects to the address it judged, with the URL's host in `Host` and in TLS SNI and certificate
checks: no second resolution a rebinding DNS server could answer differently. Redirects are never followed, proxies
from the environment never used, connections never pooled (a pooled connection must not carry another host's
request), the response body never read, and the whole attempt is bounded by `timeout`.

Signing is the `standardwebhooks` package's: `webhook-signature` carries `v1,<base64 HMAC-SHA256 of
id.timestamp.body>` for every secret that signs at the moment, space-separated (two during a rotation's overlap).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import ipaddress
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import SplitResult, urlsplit

import httpx
from standardwebhooks import Webhook

from referral.domain.webhook_destinations import DestinationRule, IPAddress, check_addresses
from referral.domain.webhooks import AttemptOutcome, Outgoing
from simpul_platform.errors import DomainError

Resolver = Callable[[str, int], Awaitable[tuple[IPAddress, ...]]]
USER_AGENT = "Simpul-Webhooks/1"
log = logging.getLogger(__name__)
LONGEST_WAIT_SECONDS = 366 * 24 * 3600  # the longest Retry-After read


async def resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """Every address the host resolves to (an address literal is itself); none when it does not resolve."""
    try:
        return (ipaddress.ip_address(host.strip("[]")),)
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return ()
    found = (ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
    return tuple(dict.fromkeys(found))


def signature(secrets: Sequence[str], message_id: str, at: dt.datetime, body: str) -> str:
    """The `webhook-signature` header: one `v1,` signature per secret, space-separated."""
    return " ".join(Webhook(secret).sign(message_id, at.astimezone(dt.UTC), body) for secret in secrets)


def retry_after(value: str | None, now: dt.datetime) -> dt.timedelta | None:
    """A `Retry-After` header (seconds, or an HTTP date) as a wait from `now`, at most a year (the retry schedule
    caps it far lower); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():  # any number of digits: more seconds than a timedelta holds must not fail the round
        too_long = len(value) > len(str(LONGEST_WAIT_SECONDS))
        return dt.timedelta(seconds=LONGEST_WAIT_SECONDS if too_long else min(int(value), LONGEST_WAIT_SECONDS))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(when - now, dt.timedelta(0))


class WebhookSender:
    """Attempts deliveries: one HTTP client per round, attempts of a round concurrent."""

    def __init__(self, rule: DestinationRule, timeout: float, *, resolver: Resolver = resolve,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.rule = rule
        self.timeout = timeout
        self.resolver = resolver
        self.transport = transport

    async def send_all(self, outgoing: Sequence[Outgoing], now: dt.datetime) -> list[AttemptOutcome]:
        """One attempt at each delivery, signed at `now`; outcomes in the same order."""
        async with httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=httpx.Timeout(self.timeout),
                                     limits=httpx.Limits(max_keepalive_connections=0),
                                     transport=self.transport) as client:
            return list(await asyncio.gather(*(self.send(client, one, now) for one in outgoing)))

    async def send(self, client: httpx.AsyncClient, outgoing: Outgoing, now: dt.datetime) -> AttemptOutcome:
        """One attempt, never longer than the timeout; errors are named by kind, never with the receiver's words."""
        started = time.perf_counter()

        def outcome(status: int | None, error: str | None, wait: dt.timedelta | None = None) -> AttemptOutcome:
            return AttemptOutcome(status, round((time.perf_counter() - started) * 1000), error, wait)
        try:
            async with asyncio.timeout(self.timeout):
                parts = urlsplit(outgoing.url)
                host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
                addresses = await self.resolver(host, port)
                try:
                    check_addresses(host, addresses, self.rule)
                except DomainError as refused:
                    return outcome(None, f"refused destination: {refused.reason}")
                status, wait = await self._post(client, outgoing, parts, _pinned(parts, addresses[0], port), now)
        except TimeoutError:
            return outcome(None, "timeout")
        except httpx.HTTPError as error:
            return outcome(None, f"connection failed ({type(error).__name__})")
        except Exception as error:  # a socket or URL error httpx did not wrap, or any other: one failed attempt,
            # never the round's (the others' attempts would go unrecorded and be sent again)
            log.warning("webhook attempt %d of %s failed: %s", outgoing.number, outgoing.delivery_id,
                        type(error).__name__, exc_info=not isinstance(error, OSError | ValueError))
            return outcome(None, f"failed ({type(error).__name__})")
        return outcome(status, None if 200 <= status < 300 else f"HTTP {status}", wait)

    async def _post(self, client: httpx.AsyncClient, outgoing: Outgoing, parts: SplitResult, pinned: str,
                    now: dt.datetime) -> tuple[int, dt.timedelta | None]:
        headers = {"host": parts.netloc, "user-agent": USER_AGENT, "content-type": "application/json",
                   "webhook-id": outgoing.event_id, "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": signature(outgoing.secrets, outgoing.event_id, now, outgoing.body)}
        extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
        request = client.build_request("POST", pinned, content=outgoing.body.encode(), headers=headers,
                                       extensions=extensions)
        response = await client.send(request, stream=True)
        await response.aclose()  # the answer's body is never read
        return response.status_code, retry_after(response.headers.get("retry-after"), now)


def _pinned(parts: SplitResult, address: IPAddress, port: int) -> str:
    """The URL with the judged address in place of the host."""
    literal = f"[{address}]" if address.version == 6 else str(address)
    return parts._replace(netloc=f"{literal}:{port}").geturl()
