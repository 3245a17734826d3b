"""The header rewriting on its own (cleanprod_gateway.forwarding, pure functions): what goes up to a service."""

from __future__ import annotations

from cleanprod_gateway.forwarding import Caller, sort_client_headers, upstream_headers, upstream_url

ANONYMOUS = Caller("203.0.113.7", "https")
VERIFIED = Caller("203.0.113.7", "http", authorization=b"Bearer abc.def.ghi", subject=b"u-1", client=b"portal")


def _raw(*pairs: tuple[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode(), value.encode()) for name, value in pairs]


def test_client_headers_pass_and_the_gateways_own_follow() -> None:
    headers, has_body = upstream_headers(
        _raw(
            ("host", "api.example"),
            ("accept", "application/json"),
            ("if-match", '"3"'),
            ("authorization", "Bearer abc.def.ghi"),
            ("x-request-id", "client-sent"),
        ),
        VERIFIED,
        "rid-1",
        trust_forwarded=False,
    )
    assert headers == [
        ("accept", "application/json"),
        ("if-match", '"3"'),
        ("authorization", "Bearer abc.def.ghi"),
        ("x-forwarded-for", "203.0.113.7"),
        ("x-forwarded-proto", "http"),
        ("x-forwarded-host", "api.example"),
        ("x-request-id", "rid-1"),
        ("x-gateway-subject", "u-1"),
        ("x-gateway-client", "portal"),
    ]
    assert has_body is False


def test_anonymous_caller_gets_no_authorization_and_no_identity() -> None:
    headers, _ = upstream_headers(
        _raw(("authorization", "Bearer forged"), ("accept", "*/*")), ANONYMOUS, "r", trust_forwarded=False
    )
    names = [name for name, _ in headers]
    assert "authorization" not in names
    assert not any(name.startswith("x-gateway-") for name in names)
    assert ("x-forwarded-proto", "https") in headers
    assert "x-forwarded-host" not in names  # no Host received, none invented


def test_identity_and_hop_by_hop_headers_are_dropped() -> None:
    seen = sort_client_headers(
        _raw(
            ("x-roles", "officer"),
            ("x-user-id", "42"),
            ("x-gateway-subject", "admin"),
            ("x-auth-request-user", "a"),
            ("remote-user", "root"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("upgrade", "h2c"),
            ("proxy-authorization", "Basic eA=="),
            ("accept-language", "vi"),
        ),
        trust_forwarded=False,
    )
    assert seen.passed == [("accept-language", "vi")]


def test_connection_names_more_headers_to_drop() -> None:
    seen = sort_client_headers(
        _raw(("connection", "keep-alive, X-Secret , close"), ("x-secret", "s"), ("x-kept", "k")), trust_forwarded=False
    )
    assert seen.passed == [("x-kept", "k")]


def test_body_is_announced_by_content_length_or_transfer_encoding() -> None:
    assert sort_client_headers(_raw(("content-length", "12")), trust_forwarded=False).has_body
    assert not sort_client_headers(_raw(("content-length", "0")), trust_forwarded=False).has_body
    chunked = sort_client_headers(_raw(("transfer-encoding", "chunked")), trust_forwarded=False)
    assert chunked.has_body and chunked.passed == []  # hop-by-hop: aiohttp frames the body itself


def test_forwarding_headers_replaced_unless_the_front_proxy_is_trusted() -> None:
    raw = _raw(
        ("host", "gw.internal"),
        ("x-forwarded-for", "198.51.100.1"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "portal.example"),
        ("x-real-ip", "10.0.0.1"),
        ("forwarded", "for=1.2.3.4"),
    )
    untrusted, _ = upstream_headers(raw, VERIFIED, "r", trust_forwarded=False)
    assert ("x-forwarded-for", "203.0.113.7") in untrusted
    assert ("x-forwarded-proto", "http") in untrusted
    assert ("x-forwarded-host", "gw.internal") in untrusted
    trusted, _ = upstream_headers(raw, VERIFIED, "r", trust_forwarded=True)
    assert ("x-forwarded-for", "198.51.100.1, 203.0.113.7") in trusted
    assert ("x-forwarded-proto", "https") in trusted
    assert ("x-forwarded-host", "portal.example") in trusted
    for headers in (untrusted, trusted):
        names = [name for name, _ in headers]
        assert "x-real-ip" not in names and "forwarded" not in names
        assert names.count("x-forwarded-for") == 1


def test_header_values_keep_their_bytes() -> None:
    headers, _ = upstream_headers([(b"x-note", "Sóc Sơn".encode())], ANONYMOUS, "r", trust_forwarded=False)
    assert headers[0][1].encode("latin-1") == "Sóc Sơn".encode()  # latin-1 round trip: bytes unchanged


def test_upstream_url_keeps_the_clients_encoding_and_query() -> None:
    scope = {"path": "/api/v1/enterprises/a b", "raw_path": b"/api/v1/enterprises/a%20b", "query_string": b"q=s%C3%B3c"}
    assert upstream_url("http://registry:8000", scope) == "http://registry:8000/api/v1/enterprises/a%20b?q=s%C3%B3c"
    assert upstream_url("http://r", {"path": "/api/v1/sectors", "query_string": b""}) == "http://r/api/v1/sectors"
