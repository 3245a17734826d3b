from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from cleanprod_kit.settings import ServiceSettings

from .domain.dossier_code import AGENCY_ID_PATTERN


class ApplicationsSettings(ServiceSettings):
    """Environment variables are prefixed APPLICATIONS_ (e.g. APPLICATIONS_DATABASE_URL)."""

    model_config = SettingsConfigDict(env_prefix="APPLICATIONS_", extra="ignore")

    service_name: str = "applications"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:15432/cleanprod_applications"

    # The registry is asked (over HTTP, with this service's own client-credentials token) who owns a facility.
    registry_url: str = "http://127.0.0.1:18101"
    registry_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    # Dossier codes (Circular 01/2018/TT-VPCP art. 19): the Department's electronic identifier.
    agency_id: str = Field(default="000.00.01.H26", pattern=f"^{AGENCY_ID_PATTERN}$")

    # Attachments: content-addressed files under document_dir, at most max_document_bytes each.
    document_dir: Path = Path(".data/documents")
    max_document_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)

    # Tranches (see docs/applications.md): advance share of the award, and the achieved ratio below which a
    # not_achieved project gets no balance and repays the advance pro rata to the shortfall.
    advance_share_bp: int = Field(default=3_000, ge=0, le=10_000)
    recovery_threshold_bp: int = Field(default=5_000, ge=0, le=10_000)

    @field_validator("registry_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


MIGRATIONS = "cleanprod_applications:migrations"
