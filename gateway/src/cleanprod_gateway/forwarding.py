"""The headers a proxied request carries to its upstream, computed from the client's (pure functions, no I/O).

Out: hop-by-hop headers (and those named by `Connection`), identity headers a client could forge, the client's
Host, X-Request-ID, Authorization and forwarding headers. In: exactly the Authorization header whose token the
gateway verified (none for an anonymous public read), X-Forwarded-For/-Proto/-Host (appended to the front
proxy's when the gateway trusts it), the request id, and the verified caller as X-Gateway-Subject/-Client.
Which names belong to which group is in headers.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from starlette.types import Scope

from .headers import FORWARDING, HOP_BY_HOP, is_identity_header

RawHeaders = Iterable[tuple[bytes, bytes]]
Headers = list[tuple[str, str]]

# Client headers replaced by the gateway's own (Host goes too: aiohttp sets the upstream's).
_REPLACED = frozenset({b"host", b"x-request-id", b"authorization"})
_KEPT_CONNECTION_TOKENS = (b"keep-alive", b"close")


@dataclass(frozen=True, slots=True)
class Caller:
    """What the upstream is told about the client: where it is and, when its token was verified, who it is."""

    ip: str
    scheme: str  # the scheme the client used to reach the gateway
    authorization: bytes | None = None  # the verified header, as received; None: forward none
    subject: bytes | None = None  # X-Gateway-Subject (ASCII), with a verified token only
    client: bytes | None = None  # X-Gateway-Client (ASCII), with a verified token only


@dataclass(slots=True)
class ClientHeaders:
    """The client's headers sorted: those passed on as they are, and what the gateway's own are built from."""

    passed: Headers = field(default_factory=list)
    has_body: bool = False  # Content-Length other than 0, or Transfer-Encoding
    host: bytes = b""
    forwarded: dict[bytes, bytes] = field(default_factory=dict)  # the front proxy's X-Forwarded-*, when trusted
    connection_tokens: list[bytes] = field(default_factory=list)


def sort_client_headers(raw: RawHeaders, *, trust_forwarded: bool) -> ClientHeaders:
    seen = ClientHeaders()
    passed = seen.passed
    for name, value in raw:
        if name in HOP_BY_HOP:
            _hop_by_hop(seen, name, value)
        elif name in FORWARDING:
            if trust_forwarded:
                seen.forwarded[name] = value
        elif name in _REPLACED:
            if name == b"host":
                seen.host = value
        elif not is_identity_header(name):
            if name == b"content-length":
                seen.has_body = value != b"0"
            passed.append((name.decode("latin-1"), value.decode("latin-1")))
    if seen.connection_tokens:
        drop = {t.decode("latin-1") for t in seen.connection_tokens if t not in _KEPT_CONNECTION_TOKENS}
        if drop:
            seen.passed = [(k, v) for k, v in passed if k not in drop]
    return seen


def _hop_by_hop(seen: ClientHeaders, name: bytes, value: bytes) -> None:
    if name == b"transfer-encoding":
        seen.has_body = True
    elif name == b"connection":
        seen.connection_tokens = [t.strip().lower() for t in value.split(b",")]


def gateway_headers(seen: ClientHeaders, caller: Caller, request_id: str) -> Headers:
    """The headers the gateway adds: verified Authorization, X-Forwarded-*, X-Request-ID, X-Gateway-*."""
    added: Headers = []
    if caller.authorization is not None:
        # Exactly the header whose token was verified (there is only one: header_problem refused duplicates).
        added.append(("authorization", caller.authorization.decode("latin-1")))
    xff = seen.forwarded.get(b"x-forwarded-for")
    proto = seen.forwarded.get(b"x-forwarded-proto")
    host = seen.forwarded.get(b"x-forwarded-host") or seen.host
    added.append(("x-forwarded-for", f"{xff.decode('latin-1')}, {caller.ip}" if xff else caller.ip))
    added.append(("x-forwarded-proto", proto.decode("latin-1") if proto else caller.scheme))
    if host:
        added.append(("x-forwarded-host", host.decode("latin-1")))
    added.append(("x-request-id", request_id))
    if caller.subject is not None:
        added.append(("x-gateway-subject", caller.subject.decode("ascii")))
        added.append(("x-gateway-client", (caller.client or b"").decode("ascii")))
    return added


def upstream_headers(
    raw: RawHeaders, caller: Caller, request_id: str, *, trust_forwarded: bool
) -> tuple[Headers, bool]:
    """The upstream request's headers, and whether the request has a body to stream."""
    seen = sort_client_headers(raw, trust_forwarded=trust_forwarded)
    return seen.passed + gateway_headers(seen, caller, request_id), seen.has_body


def upstream_url(base: str, scope: Scope) -> str:
    """The upstream's URL for the request: `base` + the path exactly as the client encoded it + its query."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    target = base + raw_path.decode("latin-1")
    query = scope.get("query_string")
    if query:
        target += "?" + query.decode("latin-1")
    return target
