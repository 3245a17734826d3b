"""Settings shared by every service; each service subclasses with its own env prefix (REGISTRY_, ...)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .publishers import DEFAULT_PUBLISHER_CLIENTS, merged_clients


class ObservabilitySettings(BaseSettings):
    """Metrics and traces, the same in every process (services, gateway, portal; docs/observability.md)."""

    # Where /metrics is served when the main port is public (gateway, portal); services serve it on their own
    # port, which the gateway never routes. 0: no separate listener.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # Traces: off (no instrumentation at all), otlp (OTLP over HTTP to the endpoint), memory (kept in the
    # process: tests and debugging).
    tracing_exporter: Literal["off", "otlp", "memory"] = "off"
    otlp_traces_endpoint: str = "http://127.0.0.1:4318/v1/traces"
    trace_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)  # of traces started here (parents decide else)


class ServiceSettings(ObservabilitySettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    service_name: str = "cleanprod"
    environment: str = Field(default="dev", description="dev | test | production")
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:15432/cleanprod"
    # Kept open: at least the requests a process has in flight under load. Connections beyond the pool (overflow)
    # are opened and closed per request, each a TCP + TLS-attempt handshake: at 32 requests in flight a pool of
    # 10 (then 20) cost the registry 4–7 % of its CPU (issue 16). PostgreSQL's max_connections must cover every
    # process's pool + overflow (infra/postgres_server.py: 200).
    db_pool_size: int = 40
    db_max_overflow: int = 20
    # The hot reads' own asyncpg pool (db.Read, Database.fetch), opened on first use; counts towards
    # max_connections too.
    db_read_pool_size: int = Field(default=10, ge=1)
    # Generation-0 threshold of the cyclic garbage collector once the app has started (0: Python's default, and
    # nothing frozen); what start-up built is frozen out of later collections (app.py, docs/performance.md).
    gc_threshold: int = 100_000
    # asyncpg's prepared-statement cache per connection; None: the driver's default. Set 0 behind PgBouncer in
    # transaction mode (the Kubernetes manifests do: infra/k8s, docs/operations.md), see db.statement_cache_options.
    db_statement_cache_size: int | None = Field(default=None, ge=0)

    # Token verification (zero trust: every service checks the bearer token itself).
    oidc_issuer: str = "http://127.0.0.1:18080/realms/cleanprod"
    oidc_jwks_url: str | None = None  # defaults to <server>/realms/<realm>/protocol/openid-connect/certs
    # Keycloak as this service reaches it (e.g. http://keycloak:8080 inside a container network) when that differs
    # from the public issuer's host; defaults to the issuer's own scheme://host:port.
    oidc_server_url: str | None = None
    oidc_audience: str = "cleanprod-api"
    clock_skew_seconds: int = 30
    jwks_cache_ttl_seconds: int = 300
    jwks_min_refetch_seconds: float = 10.0

    # Client-credentials identity used when this service calls another one.
    service_client_id: str | None = None
    service_client_secret: str | None = None

    # Where outbox events are pushed (comma-separated URLs of other services' /internal/events).
    event_subscribers: str = ""
    outbox_poll_seconds: float = 0.5
    outbox_enabled: bool = True
    # Delivered events older than this are deleted (outbox_retention.py; 0 = keep everything), checked every interval.
    outbox_retention_days: float = Field(default=30.0, ge=0)
    outbox_prune_interval_seconds: float = Field(default=3600.0, gt=0)
    # Publishing service → its Keycloak client id (JSON, e.g. {"verification": "svc-verif-prod"}; services not
    # named keep the default). /internal/events accepts an event only from its publisher's client (publishers.py).
    event_publisher_clients: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_PUBLISHER_CLIENTS))

    max_json_body_bytes: int = 1_048_576
    # Key that signs list cursors (HMAC): required in production, a built-in key in dev/test.
    cursor_key: SecretStr | None = None
    # Seconds a client is told to wait (Retry-After) when the database cannot be reached.
    db_unavailable_retry_after: int = 5
    log_level: str = "INFO"
    log_json: bool = True
    log_requests: bool = True  # one JSON access-log line per request

    @field_validator("event_publisher_clients")
    @classmethod
    def _publisher_clients(cls, value: dict[str, str]) -> dict[str, str]:
        return merged_clients(value)

    @property
    def realm(self) -> str:
        return self.oidc_issuer.rstrip("/").rpartition("/realms/")[2]

    @property
    def keycloak_server_url(self) -> str:
        return (self.oidc_server_url or self.oidc_issuer.rstrip("/").rpartition("/realms/")[0]).rstrip("/")

    @property
    def jwks_url(self) -> str:
        return self.oidc_jwks_url or f"{self.keycloak_server_url}/realms/{self.realm}/protocol/openid-connect/certs"

    @property
    def subscriber_urls(self) -> list[str]:
        return [u.strip() for u in self.event_subscribers.split(",") if u.strip()]
