from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from cleanprod_kit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    """Environment variables are prefixed REGISTRY_ (e.g. REGISTRY_DATABASE_URL)."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    service_name: str = "registry"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:15432/cleanprod_registry"
    # Keycloak admin API (enterprise accounts) — reached with this service's own client credentials.
    keycloak_url: str | None = None  # e.g. http://127.0.0.1:18080
    keycloak_realm: str = "cleanprod"


MIGRATIONS = "cleanprod_registry:migrations"
