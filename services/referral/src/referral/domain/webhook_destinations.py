"""Where a webhook may be sent (the SSRF guard's rules): an https URL whose host resolves only to public addresses,
unless the configuration allows the host or network (then http is allowed too: a receiver on 127.0.0.1 in tests).

Pure: the resolution is the sender's (`adapters.webhook_sender`); these rules judge the addresses it found, at
registration and again before every attempt (DNS can change in between).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from referral.domain.errors import Invalid, require

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_URL_LENGTH = 2048
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class DestinationRule:
    """What the configuration allows besides public addresses over https: host names and networks."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> DestinationRule:
        """Each entry an address, a network (`10.1.0.0/16`) or a host name (`receiver.internal`)."""
        hosts, networks = set(), []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                hosts.add(entry.strip().lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        """Whether the host (a name or an address literal) is allowed by name or network."""
        if host.lower().rstrip(".") in self.hosts:
            return True
        address = _literal(host)
        return address is not None and self.allows_address(address)

    def allows_address(self, address: IPAddress) -> bool:
        """Whether the address lies in an allowed network."""
        return any(address.version == network.version and address in network for network in self.networks)


def parse_url(url: str, rule: DestinationRule) -> SplitResult:
    """The URL split, when it may be registered: https (http only to an allowed host), a host, no credentials."""
    require(len(url) <= MAX_URL_LENGTH, "url", f"at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise Invalid("url", "not a valid URL (check the host and the port)") from error
    require(parts.scheme in ("https", "http"), "url", "must be an https URL")
    require(bool(parts.hostname), "url", "needs a host")
    require(parts.username is None and parts.password is None, "url", "may not carry credentials")
    require(not parts.fragment, "url", "may not carry a fragment")
    require(port is None or 0 < port < 65536, "url", "the port is out of range")
    host = parts.hostname or ""
    require(parts.scheme == "https" or rule.allows_host(host), "url",
            "must be an https URL (http only to a destination the configuration allows)")
    return parts


def check_addresses(host: str, addresses: Iterable[IPAddress], rule: DestinationRule) -> None:
    """Refuse a destination any of whose addresses is not public, unless the configuration allows it."""
    found = tuple(addresses)
    require(bool(found), "url", "the host does not resolve")
    if rule.allows_host(host):
        return
    for address in found:
        if rule.allows_address(address):
            continue
        reason = refusal(address)
        if reason is not None:
            raise Invalid("url", f"the destination resolves to {reason} ({address}), which is refused")


def refusal(address: IPAddress) -> str | None:
    """Why an address may not receive webhooks (None: a public address); IPv4 inside IPv6 is judged as IPv4."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return refusal(embedded)
    for what, flagged in (("an unspecified address", address.is_unspecified), ("a loopback address",
                          address.is_loopback), ("a link-local address", address.is_link_local),
                          ("a multicast address", address.is_multicast), ("a reserved address", address.is_reserved),
                          ("a private address", address.is_private)):
        if flagged:
            return what
    return None if address.is_global else "a non-public address"


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
