"""Token verification at the gateway: the kit's TokenVerifier (RS256 only, JWKS by kid, issuer, audience, expiry
with skew) behind a bounded LRU of verified tokens, so the RSA signature check runs once per token, not once per
request. A cached token is served only until its `exp` (+ the same skew the verifier allows)."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

import httpx

from cleanprod_kit.auth import JWKSCache, Principal, TokenRefused, TokenVerifier


@dataclass(slots=True)
class VerifiedToken:
    principal: Principal
    valid_until: float  # unix time after which the cached result must not be used
    rate_key: str
    subject_header: bytes
    client_header: bytes


class TokenCache:
    def __init__(self, verifier: TokenVerifier, max_entries: int = 10_000) -> None:
        self.verifier = verifier
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, VerifiedToken] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    async def verify(self, token: bytes) -> VerifiedToken:
        """`token` is the raw bearer token (bytes as received). Raises kit Unauthorized problems."""
        entries = self._entries
        entry = entries.get(token)
        if entry is not None:
            if entry.valid_until >= time.time():
                entries.move_to_end(token)
                self.hits += 1
                return entry
            del entries[token]
        self.misses += 1
        try:
            text = token.decode("ascii")
        except UnicodeDecodeError:
            raise TokenRefused("malformed", "The bearer token is malformed.") from None
        principal = await self.verifier.verify(text)
        exp = principal.claims.get("exp")
        valid_until = float(exp) + self.verifier.leeway if isinstance(exp, int | float) else 0.0
        entry = VerifiedToken(
            principal=principal,
            valid_until=valid_until,
            rate_key=f"{principal.client_id or '-'}:{principal.subject}",
            subject_header=_header_value(principal.subject),
            client_header=_header_value(principal.client_id or ""),
        )
        entries[token] = entry
        if len(entries) > self.max_entries:
            entries.popitem(last=False)
        return entry


def _header_value(text: str) -> bytes:
    # Header values must be visible ASCII: anything else is percent-escaped rather than passed through.
    from urllib.parse import quote

    return quote(text, safe="-._~:@!$&'()*+,;=/ ").encode("ascii")


def extract_bearer(authorization: bytes | None) -> bytes:
    """The token from an Authorization header, or a kit Unauthorized problem (with WWW-Authenticate)."""
    if not authorization:
        raise TokenRefused(
            "missing",
            "Authentication required: send 'Authorization: Bearer <access token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="cleanprod"'},
        )
    scheme, _, token = authorization.partition(b" ")
    token = token.strip()
    if scheme.lower() != b"bearer" or not token:
        raise TokenRefused(
            "scheme",
            "Use the Bearer scheme: 'Authorization: Bearer <access token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="cleanprod", error="invalid_request"'},
        )
    return token


async def warm_up(jwks: JWKSCache) -> None:
    """Fetch the JWKS once at start-up (best effort) so the first requests do not wait for it."""
    try:
        await jwks.refresh()
    except (TimeoutError, httpx.HTTPError, ValueError):
        pass
