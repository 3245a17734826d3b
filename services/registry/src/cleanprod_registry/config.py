from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from cleanprod_kit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    """Environment variables are prefixed REGISTRY_ (e.g. REGISTRY_DATABASE_URL)."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    service_name: str = "registry"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:15432/cleanprod_registry"
    # Enterprise logins are created through Keycloak's admin API (at `keycloak_server_url`, realm of the issuer)
    # with this service's own client credentials (SERVICE_CLIENT_ID / SERVICE_CLIENT_SECRET).
    # How long Keycloak's answer to "who gets this mail" is kept (per enterprise, role, user; 0: ask every time).
    # A recipient list, never an authorization decision: a login disabled or removed is not mailed after this.
    recipients_cache_seconds: float = Field(default=30.0, ge=0, le=300)


MIGRATIONS = "cleanprod_registry:migrations"
