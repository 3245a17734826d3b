"""Browser-facing security: response headers (a strict Content-Security-Policy) and CSRF tokens.

CSRF: every POST/PUT/PATCH/DELETE must carry a token — form field `csrf_token` or header `X-CSRF-Token` (htmx
sends it from `hx-headers` on <body>). With a session, the token is the session's own random value; without
one (anonymous forms), a signed double submit: a random `cp_csrf` cookie and the HMAC of it in the form.
The check runs as an app-wide dependency, so no route can forget it; a miss is a 403 page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
ANON_CSRF_COOKIE = "cp_csrf"


CHECKS_CSRF_ITSELF = "checks_csrf_itself"


def checks_csrf_itself(endpoint):  # noqa: ANN001, ANN201 - a decorator for route functions
    """Marks a route that reads its body as a stream and checks the CSRF token itself (header, or the first form
    field) before acting — the app-wide check would otherwise parse (buffer) the whole multipart body first."""
    setattr(endpoint, CHECKS_CSRF_ITSELF, True)
    return endpoint


class CsrfRefused(Exception):
    """The request changes state without a valid CSRF token (→ 403 page)."""


def content_security_policy(form_targets: list[str]) -> str:
    form_action = " ".join(["'self'", *form_targets])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            f"form-action {form_action}",
        ]
    )


def response_headers(*, keycloak_origin: str, hsts: bool) -> list[tuple[bytes, bytes]]:
    """The security headers of every response (pages, static files, errors; added by middleware.PortalLayer)."""
    # The login/logout redirects leave for Keycloak: form-action must allow that origin (browsers apply
    # form-action to redirects after a form POST, e.g. logout).
    csp = content_security_policy([keycloak_origin] if keycloak_origin else [])
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if hsts:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


def anonymous_token(secret_key: str, cookie_value: str) -> str:
    return hmac.new(secret_key.encode(), b"csrf:" + cookie_value.encode(), hashlib.sha256).hexdigest()


def new_anonymous_cookie() -> str:
    return secrets.token_urlsafe(32)


async def submitted_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached by Starlette: the route reads the same parsed form
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
