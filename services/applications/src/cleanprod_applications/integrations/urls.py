"""Where a webhook may point (server-side request forgery guard).

Checked when a subscription is created or changed, again before every delivery, and once more on the
addresses the delivery client actually connects to (`PinnedBackend` in delivery.py), so a DNS answer that
changes between the check and the connection cannot send a request somewhere else.

Rules (settings in brackets):
- `https` only, except in dev/test where `http` is accepted too; no user name or password in the URL.
- cloud metadata endpoints (169.254.169.254, fd00:ec2::254, 100.100.100.200, metadata.google.internal, …),
  link-local (169.254.0.0/16, fe80::/10), unspecified (0.0.0.0/8, ::), multicast, broadcast and reserved or
  documentation ranges: always refused;
- loopback (127.0.0.0/8, ::1): only with [webhook_allow_loopback] (default: dev/test only);
- private ranges (10/8, 172.16/12, 192.168/16, 100.64/10 shared, fc00::/7, fec0::/10): only with
  [webhook_allow_private];
- [webhook_allowed_hosts]: if set, the host must be one of them (`*.example.vn` allows its subdomains);
- the host name is resolved and *every* address must pass (a name that also resolves to 10.0.0.1 is refused).
IPv4-mapped, NAT64 and 6to4 IPv6 addresses are judged by the IPv4 address inside them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTS = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
        "metadata.tencentyun.com",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, …
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (legacy)
    )
)

_V4 = ipaddress.ip_network
LOOPBACK = (_V4("127.0.0.0/8"), _V4("::1/128"))
LINK_LOCAL = (_V4("169.254.0.0/16"), _V4("fe80::/10"))
UNSPECIFIED = (_V4("0.0.0.0/8"), _V4("::/128"))
MULTICAST = (_V4("224.0.0.0/4"), _V4("ff00::/8"))
PRIVATE = (
    _V4("10.0.0.0/8"),
    _V4("172.16.0.0/12"),
    _V4("192.168.0.0/16"),
    _V4("100.64.0.0/10"),
    _V4("fc00::/7"),
    _V4("fec0::/10"),
)
RESERVED = (
    _V4("192.0.0.0/24"),
    _V4("192.0.2.0/24"),
    _V4("198.18.0.0/15"),
    _V4("198.51.100.0/24"),
    _V4("203.0.113.0/24"),
    _V4("240.0.0.0/4"),  # includes 255.255.255.255
    _V4("::/96"),
    _V4("100::/64"),
    _V4("2001:db8::/32"),
    _V4("2001::/23"),
)
NAT64 = _V4("64:ff9b::/96")
GLOBAL_UNICAST_V6 = _V4("2000::/3")


class UrlRefused(ValueError):
    """A webhook URL (or one of its addresses) that the policy does not allow; `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class UrlPolicy:
    allow_http: bool
    allow_loopback: bool
    allow_private: bool
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Any) -> UrlPolicy:
        return cls(
            allow_http=settings.is_dev_or_test,
            allow_loopback=bool(settings.webhook_allow_loopback),
            allow_private=settings.webhook_allow_private,
            allowed_hosts=settings.webhook_host_allow_list,
        )


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    """Lower case, IDNA (ASCII), no trailing dot, no brackets around IPv6."""
    port: int
    literal: IPAddress | None
    """The address when the URL names one instead of a host name."""


def _in(address: IPAddress, networks: tuple[Any, ...]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _destination(address: IPAddress) -> IPAddress:
    """What a connection to `address` reaches: an IPv6 address without its zone, or the IPv4 address it embeds."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
        inner = _embedded_v4(address)
        if inner is not None:
            return inner
    return address


def check_address(address: IPAddress, policy: UrlPolicy) -> None:
    """Raise UrlRefused unless a request may be sent to `address`."""
    address = _destination(address)
    if address in METADATA_ADDRESSES:
        raise UrlRefused("metadata_address", f"{address} is a cloud metadata endpoint")
    for networks, code, what in (
        (UNSPECIFIED, "unspecified_address", "is not a destination address"),
        (MULTICAST, "multicast_address", "is a multicast address"),
        (LINK_LOCAL, "link_local_address", "is link-local"),
    ):
        if _in(address, networks):
            raise UrlRefused(code, f"{address} {what}")
    if _in(address, LOOPBACK):
        if not policy.allow_loopback:
            raise UrlRefused("loopback_address", f"{address} is a loopback address (allowed in dev/test only)")
        return
    if _in(address, PRIVATE):
        if not policy.allow_private:
            raise UrlRefused("private_address", f"{address} is in a private range")
        return
    if _in(address, RESERVED) or (address.version == 6 and address not in GLOBAL_UNICAST_V6):
        raise UrlRefused("reserved_address", f"{address} is a reserved or documentation address")


def _host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    for entry in allowed:
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and len(host) > len(entry) - 1:
                return True
        elif host == entry:
            return True
    return False


def _url_parts(url: str, policy: UrlPolicy) -> tuple[SplitResult, int | None, str]:
    """The URL split, its port as given and its scheme: 1–MAX_URL_LENGTH printable characters, http(s) (http only
    where the policy allows it), no credentials, no fragment."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UrlRefused("invalid_url", f"a webhook URL is 1–{MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise UrlRefused("invalid_url", "the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port_given = parts.port
    except ValueError as exc:
        raise UrlRefused("invalid_url", f"the URL cannot be read: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UrlRefused("scheme_not_allowed", "webhook URLs use https")
    if scheme == "http" and not policy.allow_http:
        raise UrlRefused("https_required", "webhook URLs must use https")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("credentials_in_url", "put no user name or password in the URL; verify the signature")
    if parts.fragment:
        raise UrlRefused("invalid_url", "a webhook URL has no #fragment")
    return parts, port_given, scheme


def _host(raw_host: str | None) -> tuple[str, IPAddress | None]:
    """The host as compared and resolved (an address literal normalised, a name IDNA-encoded, lower case), and
    the address when the host is a literal one."""
    if not raw_host:
        raise UrlRefused("invalid_url", "the URL has no host")
    try:
        literal = ipaddress.ip_address(raw_host)
        return str(literal), literal
    except ValueError:
        try:
            return raw_host.rstrip(".").encode("idna").decode("ascii").lower(), None
        except UnicodeError:
            raise UrlRefused("invalid_url", f"{raw_host!r} is not a valid host name") from None


def parse_target(url: str, policy: UrlPolicy) -> Target:
    """The checks that need no DNS: scheme, credentials, host name rules, literal addresses."""
    parts, port_given, scheme = _url_parts(url, policy)
    host, literal = _host(parts.hostname)
    if not host:
        raise UrlRefused("invalid_url", "the URL has no host")
    if host in METADATA_HOSTS:
        raise UrlRefused("metadata_address", f"{host} is a cloud metadata endpoint")
    if policy.allowed_hosts and not _host_allowed(host, policy.allowed_hosts):
        raise UrlRefused("host_not_allowed", f"{host} is not on the webhook host allow-list")
    port = port_given if port_given is not None else (443 if scheme == "https" else 80)
    if not 1 <= port <= 65535:
        raise UrlRefused("invalid_url", "the port must be 1–65535")
    if literal is not None:
        check_address(literal, policy)
    return Target(scheme=scheme, host=host, port=port, literal=literal)


Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host name resolves to (A and AAAA), through the system resolver."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlRefused("unresolvable_host", f"{host} does not resolve ({exc})") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UrlRefused("unresolvable_host", f"{host} does not resolve")
    return addresses


async def checked_addresses(host: str, port: int, policy: UrlPolicy, resolver: Resolver = resolve) -> list[IPAddress]:
    """Resolve `host` and check every address; the list is what a connection may use."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    addresses = [literal] if literal is not None else await resolver(host, port)
    for address in addresses:
        check_address(address, policy)
    return addresses


async def check_url(url: str, policy: UrlPolicy, resolver: Resolver = resolve) -> Target:
    """All the rules, DNS included. Raises UrlRefused."""
    target = parse_target(url, policy)
    await checked_addresses(target.host, target.port, policy, resolver)
    return target
