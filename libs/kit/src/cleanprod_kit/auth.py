"""Bearer-token verification shared by the gateway and every service (zero trust).

RS256 only; signing keys come from the issuer's JWKS, cached by `kid` with a TTL; an unknown `kid` triggers at
most one refetch per `min_refetch` seconds (so a flood of forged kids cannot hammer Keycloak); issuer, audience
and expiry are checked with a small clock skew.

A token that passed every check is remembered (`VerifiedTokens`) until it expires, so the signature, the JSON and
the claims of a token sent again are not checked again (issue 16): the cache holds only what the token itself
proves, for no longer than the token is valid, and only while the key that signed it is still in the key set.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from jwt.algorithms import RSAAlgorithm

from . import metrics
from .errors import Forbidden, Unauthorized
from .headerchecks import header_problem

ALLOWED_ALGORITHMS = ("RS256",)

ROLES = ("enterprise", "reviewer", "officer", "verifier", "auditor", "egov", "service")


@dataclass(frozen=True)
class Principal:
    subject: str
    username: str | None
    roles: frozenset[str]
    tax_code: str | None = None
    client_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def enterprise_tax_code(self) -> str | None:
        """The tax code an enterprise user is confined to: None when not an enterprise user; 403
        `no_enterprise_account` for an enterprise login without one."""
        if not self.has("enterprise"):
            return None
        if not self.tax_code:
            raise Forbidden(code="no_enterprise_account")
        return self.tax_code

    @property
    def display_name(self) -> str:
        return self.username or self.client_id or self.subject

    @property
    def full_name(self) -> str | None:
        """The person's name from the token's profile claims in Vietnamese order (family name first:
        "Nguyễn Văn An"), or None for accounts without one (services, e-gov clients)."""
        parts = [self.claims.get(k) for k in ("family_name", "given_name")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
        return name or None

    @property
    def primary_role(self) -> str:
        for role in ROLES:
            if role in self.roles:
                return role
        return "none"

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        roles = frozenset(r for r in (claims.get("realm_access") or {}).get("roles", []) if isinstance(r, str))
        tax_code = claims.get("tax_code")
        if isinstance(tax_code, list):  # multivalued mapper configs emit a list
            tax_code = tax_code[0] if tax_code else None
        return cls(
            subject=str(claims.get("sub") or claims.get("azp") or ""),
            username=claims.get("preferred_username"),
            roles=roles,
            tax_code=str(tax_code) if tax_code else None,
            client_id=claims.get("azp") or claims.get("client_id"),
            claims=claims,
        )


class JWKSCache:
    def __init__(
        self,
        jwks_url: str,
        ttl_seconds: float = 300,
        min_refetch_seconds: float = 10,
        http: httpx.AsyncClient | None = None,
        timeout_seconds: float = 5.0,
    ) -> None:
        """Without `http` the cache opens its own client (with `timeout_seconds`) when it first fetches, closes
        it in `close()`, and opens a new one if used again after that."""
        self.jwks_url = jwks_url
        self.ttl = ttl_seconds
        self.min_refetch = min_refetch_seconds
        self.timeout = timeout_seconds
        self._http = http
        self._owns_http = http is None
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._last_attempt = -1e9
        self._lock = asyncio.Lock()

    async def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout))
        return self._http

    async def close(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    async def _refresh(self) -> None:
        self._last_attempt = time.monotonic()
        client = await self._client()
        response = await client.get(self.jwks_url)
        response.raise_for_status()
        keys: dict[str, Any] = {}
        for jwk in response.json().get("keys", []):
            if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig" or "kid" not in jwk:
                continue
            if jwk.get("alg") not in (None, *ALLOWED_ALGORITHMS):
                continue
            keys[jwk["kid"]] = RSAAlgorithm.from_jwk(jwk)
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def refresh(self) -> None:
        """Fetch the key set now, whatever its age (e.g. at start-up, so the first requests need not wait).
        Raises httpx.HTTPError or ValueError when the issuer cannot be read; the keys held stay as they were."""
        async with self._lock:
            await self._refresh()

    @property
    def fetched(self) -> bool:
        return bool(self._keys)

    async def get(self, kid: str) -> Any | None:
        if kid in self._keys and time.monotonic() - self._fetched_at <= self.ttl:
            return self._keys[kid]
        async with self._lock:
            now = time.monotonic()
            if kid in self._keys and now - self._fetched_at <= self.ttl:
                return self._keys[kid]
            # At most one fetch per `min_refetch`, for an unknown kid and for an expired set alike: while the
            # issuer is unreachable, requests must not queue behind a fetch each (known keys keep working).
            if now - self._last_attempt >= self.min_refetch:
                try:
                    await self._refresh()
                except (httpx.HTTPError, ValueError):
                    pass
            return self._keys.get(kid)


class TokenRefused(Unauthorized):
    """A bearer token refused; `reason` (a short fixed word: missing, expired, audience, ...) labels the
    token-verification failure metric and is not part of the answer."""

    def __init__(self, reason: str, detail: str, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.reason = reason


class VerifiedTokens:
    """Tokens that passed verification: token -> (principal, kid, accepted until), bounded in size. An entry is
    used only before `exp` + leeway — the moment the verifier itself would start refusing the token (`iat`
    and `nbf`, once passed, stay passed)."""

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Principal, str, float]] = {}

    def get(self, token: str) -> tuple[Principal, str] | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if time.time() >= entry[2]:
            del self._entries[token]
            return None
        return entry[0], entry[1]

    def put(self, token: str, principal: Principal, kid: str, until: float) -> None:
        if self.max_entries <= 0:
            return
        if len(self._entries) >= self.max_entries:
            now = time.time()
            self._entries = {t: e for t, e in self._entries.items() if e[2] > now}
            while len(self._entries) >= self.max_entries:  # still full: the oldest go first
                del self._entries[next(iter(self._entries))]
        self._entries[token] = (principal, kid, until)


class TokenVerifier:
    def __init__(
        self, *, issuer: str, audience: str, jwks: JWKSCache, leeway_seconds: int = 30, cache_entries: int = 4096
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.leeway = leeway_seconds
        self.verified = VerifiedTokens(cache_entries)

    async def verify(self, token: str) -> Principal:
        known = self.verified.get(token)
        if known is not None:
            principal, kid = known
            if await self.jwks.get(kid) is not None:  # its key was not withdrawn meanwhile
                return principal
        principal, kid = await self._verify(token)
        exp = principal.claims.get("exp")
        if isinstance(exp, int | float):
            self.verified.put(token, principal, kid, float(exp) + self.leeway)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("malformed", "The bearer token is malformed.") from None
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise TokenRefused("algorithm", f"Tokens signed with '{alg}' are not accepted; RS256 only.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("no_key_id", "The token has no key id (kid).")
        key = await self.jwks.get(kid)
        if key is None:
            raise TokenRefused("unknown_key", "The token was signed by an unknown key.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALLOWED_ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("expired", "The token has expired.") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused("audience", "The token is not meant for this API (audience).") from None
        except jwt.InvalidIssuerError:
            raise TokenRefused("issuer", "The token was issued by an untrusted issuer.") from None
        except jwt.PyJWTError as exc:
            raise TokenRefused("invalid", f"The token is invalid: {exc}.") from None
        return Principal.from_claims(claims), kid


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise TokenRefused(
            "missing",
            "Authentication required: send 'Authorization: Bearer <access token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRefused("scheme", "Use the Bearer scheme: 'Authorization: Bearer <access token>'.")
    return token.strip()


async def authenticate(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    verifier: TokenVerifier = request.app.state.token_verifier
    # Every value, not `headers.get` (the first): with two Authorization headers a proxy that checked the
    # other one would be fooled. HeaderCheckMiddleware refuses them earlier; this holds without it too.
    values = request.headers.getlist("authorization")
    if len(values) > 1:
        raise header_problem(request.scope["headers"]) or Unauthorized("Send one Authorization header.")
    try:
        principal = await verifier.verify(bearer_token(values[0] if values else None))
    except Unauthorized as problem:
        metrics.token_refused(problem)
        raise
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_roles(*roles: str) -> Callable[..., Any]:
    """Route dependency: the caller must hold at least one of `roles`."""
    allowed = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.roles & allowed:
            raise Forbidden(f"This action needs one of the roles: {', '.join(sorted(allowed))}.")
        return principal

    dependency.roles = allowed  # type: ignore[attr-defined]  # read by tests/test_role_rules.py
    return dependency
