"""Portal settings; every field can be set from the environment with the PORTAL_ prefix (e.g. PORTAL_GATEWAY_URL)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from cleanprod_kit.settings import ObservabilitySettings

# DEV/TEST ONLY defaults; production must set its own (checked below).
DEV_CLIENT_SECRET = "dev-cleanprod-portal-secret"
DEV_SECRET_KEY = "dev-only-portal-secret-key-change-me"


class PortalSettings(ObservabilitySettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore", case_sensitive=False)

    # /metrics here, not on the public port (docs/observability.md); 0: none
    metrics_port: int = Field(default=18209, ge=0, le=65535)

    service_name: str = "portal"
    environment: str = Field(default="dev", description="dev | test | production")

    # Where the portal is reached by browsers (redirect URIs are built from it) and where the gateway is.
    public_base_url: str = "http://127.0.0.1:18200"
    gateway_url: str = "http://127.0.0.1:18000"
    gateway_timeout_seconds: float = 15.0

    # The portal's own database (sessions and pending logins only; no business data).
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:15432/cleanprod_portal"
    db_pool_size: int = 5
    db_max_overflow: int = 10

    # Keycloak: the issuer as browsers see it; the server URL as this process reaches it (container networks).
    oidc_issuer: str = "http://127.0.0.1:18080/realms/cleanprod"
    oidc_server_url: str | None = None
    oidc_client_id: str = "cleanprod-portal"
    oidc_client_secret: str = DEV_CLIENT_SECRET
    oidc_timeout_seconds: float = 10.0

    # Sessions: idle timeout (sliding) and absolute lifetime; the access token is refreshed this many seconds
    # before it expires, on the request that needs it.
    session_idle_seconds: int = 1800
    session_lifetime_seconds: int = 36000
    token_refresh_margin_seconds: int = 30
    login_state_seconds: int = 600  # how long a started login may take on Keycloak's page
    cookie_secure: bool | None = None  # default: True in production
    session_cookie_name: str = "cp_session"

    # Signs the anonymous CSRF double-submit token (HMAC).
    secret_key: str = DEV_SECRET_KEY

    default_language: str = "vi"
    # Dev only: the folder the loopback SMTP server (infra/mailbox.py) writes mail to, shown at /dev/mailbox.
    dev_mailbox_dir: Path | None = None
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> PortalSettings:
        if self.environment == "production":
            if self.oidc_client_secret == DEV_CLIENT_SECRET or self.secret_key == DEV_SECRET_KEY:
                raise ValueError("PORTAL_OIDC_CLIENT_SECRET and PORTAL_SECRET_KEY must be set in production")
            if self.dev_mailbox_dir is not None:
                raise ValueError("PORTAL_DEV_MAILBOX_DIR is for development only")
        return self

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def secure_cookies(self) -> bool:
        return self.production if self.cookie_secure is None else self.cookie_secure

    @cached_property
    def base_url(self) -> str:
        return self.public_base_url.rstrip("/")

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/auth/callback"

    @property
    def keycloak_public_url(self) -> str:
        return self.oidc_issuer.rstrip("/").rpartition("/realms/")[0]

    @property
    def keycloak_server_url(self) -> str:
        return (self.oidc_server_url or self.keycloak_public_url).rstrip("/")

    @property
    def realm(self) -> str:
        return self.oidc_issuer.rstrip("/").rpartition("/realms/")[2]

    # Browser-facing endpoints use the public issuer; back-channel ones the server URL.
    @property
    def authorization_endpoint(self) -> str:
        return f"{self.oidc_issuer.rstrip('/')}/protocol/openid-connect/auth"

    @property
    def end_session_endpoint(self) -> str:
        return f"{self.oidc_issuer.rstrip('/')}/protocol/openid-connect/logout"

    @property
    def token_endpoint(self) -> str:
        return f"{self.keycloak_server_url}/realms/{self.realm}/protocol/openid-connect/token"
