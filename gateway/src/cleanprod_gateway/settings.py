"""Gateway settings; every field can be set from the environment with the GATEWAY_ prefix
(e.g. GATEWAY_REGISTRY_URL, GATEWAY_CORS_ORIGINS='["https://portal.example"]' or a comma-separated list)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from cleanprod_kit.settings import ObservabilitySettings


class GatewaySettings(ObservabilitySettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", case_sensitive=False)

    service_name: str = "gateway"
    # /metrics here, not on the public port (docs/observability.md); 0: none
    metrics_port: int = Field(default=18009, ge=0, le=65535)
    environment: str = Field(default="dev", description="dev | test | production")

    # Upstream services (base URLs, no trailing path).
    registry_url: str = "http://127.0.0.1:18101"
    applications_url: str = "http://127.0.0.1:18102"
    verification_url: str = "http://127.0.0.1:18103"

    # Token verification (Keycloak realm `cleanprod`; issuer pinned with Keycloak's --hostname).
    oidc_issuer: str = "http://127.0.0.1:18080/realms/cleanprod"
    oidc_jwks_url: str | None = None  # defaults to <issuer>/protocol/openid-connect/certs
    oidc_audience: str = "cleanprod-api"
    clock_skew_seconds: int = 30
    jwks_cache_ttl_seconds: float = 300.0
    jwks_min_refetch_seconds: float = 10.0
    jwks_timeout_seconds: float = 5.0
    token_cache_size: int = 10_000  # verified tokens kept (raw token -> principal) until they expire

    # Per-client token bucket: key = token azp + sub, or the client IP for requests without a valid token.
    rate_limit_per_second: float = 50.0  # 0 disables rate limiting
    rate_limit_burst: int = 100
    rate_limit_max_clients: int = 100_000
    # Shared by every gateway replica (ratelimit.py, docs/gateway.md "Rate limits"): counters in this Redis
    # (redis://host:port/db); empty = per process. While Redis cannot be reached each process limits on its own.
    rate_limit_redis_url: str = ""
    rate_limit_key_prefix: str = Field(default="cleanprod:ratelimit", min_length=1, max_length=100)
    rate_limit_redis_timeout_seconds: float = Field(default=0.25, gt=0, le=10)
    rate_limit_redis_retry_seconds: float = Field(default=5.0, gt=0, le=300, description="After a failure, ask again")

    # Upstream transport (aiohttp keep-alive pool).
    connect_timeout: float = 3.0  # getting a connection (pool wait + TCP connect)
    read_timeout: float = 30.0  # longest silence while waiting for / reading the upstream response
    pool_size: int = 256  # total upstream connections
    pool_size_per_host: int = 128
    upstream_keepalive_seconds: float = 4.0  # below uvicorn's default 5 s keep-alive, so pooled sockets are not stale

    # If the gateway sits behind a trusted load balancer, keep the X-Forwarded-* it sends and append to them;
    # otherwise (the default: the gateway is the public edge) client-sent forwarding headers are replaced.
    trust_forwarded_headers: bool = False

    # CORS (browser front-ends). Empty list: no cross-origin access.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_allow_credentials: bool = False
    cors_max_age_seconds: int = 600

    # Public Keycloak client the Swagger UI at /api/docs logs in with (authorization code + PKCE S256).
    docs_client_id: str = "cleanprod-api-docs"

    # Merged OpenAPI document.
    openapi_cache_seconds: float = 60.0
    openapi_retry_seconds: float = 5.0  # re-fetch sooner while an upstream is missing
    openapi_fetch_timeout: float = 3.0
    readyz_timeout: float = 2.0

    # Responses up to this size (with a Content-Length) are read and sent in one piece; larger ones are streamed.
    small_body_bytes: int = 65_536

    # Generation-0 threshold of Python's cyclic garbage collector in a gateway process started by create_app()
    # (0 keeps Python's default of 2000). See main.tune_gc.
    gc_threshold: int = 100_000

    access_log: bool = True
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("rate_limit_redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("GATEWAY_RATE_LIMIT_REDIS_URL is redis://host:port/db, rediss://… (TLS) or unix:///path")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [o.strip() for o in text.split(",") if o.strip()]
        return value

    @property
    def jwks_url(self) -> str:
        return self.oidc_jwks_url or f"{self.oidc_issuer.rstrip('/')}/protocol/openid-connect/certs"

    @property
    def upstreams(self) -> dict[str, str]:
        return {
            "registry": self.registry_url.rstrip("/"),
            "applications": self.applications_url.rstrip("/"),
            "verification": self.verification_url.rstrip("/"),
        }
