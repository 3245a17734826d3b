"""Which request and response headers cross the gateway.

Identity headers sent by clients are never forwarded: a service must not be fooled by `X-Roles: officer`.
(Services do not rely on any header for identity anyway — they verify the bearer token — but stripping closes
the door for any component that might.) The gateway's own informational headers use the `X-Gateway-` prefix;
any client-sent header with that prefix is stripped too.
"""

from __future__ import annotations

# Hop-by-hop headers (RFC 9110 §7.6.1) plus those the proxy sets itself (host, content-length is kept).
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"expect",
        b"http2-settings",
    }
)

# Identity headers that some proxies, auth sidecars or frameworks treat as "who the caller is".
IDENTITY_HEADERS = frozenset(
    {
        b"x-user",
        b"x-user-id",
        b"x-userid",
        b"x-user-name",
        b"x-username",
        b"x-user-email",
        b"x-user-roles",
        b"x-user-role",
        b"x-roles",
        b"x-role",
        b"x-groups",
        b"x-tax-code",
        b"x-taxcode",
        b"x-tenant",
        b"x-tenant-id",
        b"x-principal",
        b"x-principal-id",
        b"x-subject",
        b"x-sub",
        b"x-client-id",
        b"x-email",
        b"x-scope",
        b"x-scopes",
        b"x-remote-user",
        b"remote-user",
        b"x-authenticated-user",
        b"x-authenticated-userid",
        b"x-authenticated-scope",
        b"x-authenticated-groups",
        b"x-auth-request-user",
        b"x-userinfo",
        b"x-id-token",
        b"x-access-token",
        b"x-original-user",
        b"x-impersonate-user",
        b"x-impersonate-group",
        b"x-real-user",
        b"x-service-account",
        b"x-webauth-user",
        b"x-proxy-user",
        b"x-keycloak-user",
        b"x-apigateway-event",
        b"x-apigateway-context",
        b"x-endpoint-api-userinfo",
        b"x-jwt-assertion",
        b"x-jwt-payload",
        b"x-jwt-claims",
    }
)

IDENTITY_PREFIXES = (
    b"x-auth-",
    b"x-gateway-",
    b"x-jwt-",
    b"x-forwarded-user",
    b"x-forwarded-email",
    b"x-forwarded-preferred-username",
    b"x-forwarded-groups",
    b"x-forwarded-access-token",
    b"x-consumer-",
    b"x-credential-",
    b"x-amzn-oidc-",
    b"x-ms-client-principal",
    b"x-goog-authenticated-user-",
    b"x-goog-iap-jwt",
    b"x-user-",
    b"x-remote-",
    b"x-oidc-",
    b"x-token-",
    b"x-claim-",
)

# Forwarding headers: replaced by the gateway's own (or appended to, when the gateway trusts its front proxy).
FORWARDING = frozenset(
    {
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"forwarded",
        b"x-real-ip",
        b"x-client-ip",
        b"true-client-ip",
    }
)


def is_identity_header(name: bytes) -> bool:
    return name in IDENTITY_HEADERS or name.startswith(IDENTITY_PREFIXES)


# Response headers not passed back: hop-by-hop, the ones uvicorn sets itself, and CORS (owned by the gateway).
RESPONSE_DROP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "transfer-encoding",
        "upgrade",
        "trailer",
        "te",
        "server",
        "date",
        "x-request-id",
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-expose-headers",
        "access-control-max-age",
    }
)

# Headers a browser may read from cross-origin responses.
EXPOSED_HEADERS = "ETag, Location, Retry-After, X-Request-ID, Content-Disposition, Link, WWW-Authenticate"
ALLOWED_REQUEST_HEADERS = (
    "authorization, content-type, if-match, if-none-match, idempotency-key, x-request-id, accept, accept-language"
)
