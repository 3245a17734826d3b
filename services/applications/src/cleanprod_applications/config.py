from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
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

    # The verification service, asked for a case's result and report when a dossier ZIP is built (not in a transaction).
    verification_url: str = "http://127.0.0.1:18103"
    verification_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    # Dossier codes (Circular 01/2018/TT-VPCP art. 19): the Department's electronic identifier.
    agency_id: str = Field(default="000.00.01.H26", pattern=f"^{AGENCY_ID_PATTERN}$")

    # Attachments, at most max_document_bytes each, content-addressed (documents/blobs.py): in this service's
    # database ("postgres": every replica serves what any stored) or in files under document_dir ("local": one
    # machine). Uploads are received into document_dir/tmp first in either case (a local scratch folder).
    document_storage: Literal["postgres", "local"] = "postgres"
    document_dir: Path = Path(".data/documents")
    max_document_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    document_chunk_bytes: int = Field(default=1024 * 1024, ge=4096, le=64 * 1024 * 1024)

    # Tranches (see docs/applications.md): advance share of the award, and the achieved ratio below which a
    # not_achieved project gets no balance and repays the advance pro rata to the shortfall.
    advance_share_bp: int = Field(default=3_000, ge=0, le=10_000)
    recovery_threshold_bp: int = Field(default=5_000, ge=0, le=10_000)

    # E-government integration (docs/egov-integration.md): what the dossier look-up reports to one-stop systems.
    procedure_code: str = Field(
        default="SCT-HN-SXSH-01",
        min_length=1,
        max_length=64,
        description="Administrative procedure code (MaTTHC) in the national database",
    )
    procedure_name: str = Field(default="Hỗ trợ chuyển giao công nghệ sản xuất sạch hơn", min_length=1, max_length=500)
    handling_unit: str = Field(default="Sở Công Thương Hà Nội", min_length=1, max_length=300)
    processing_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="Working days (Vietnamese holiday calendar) from reception to the due date",
    )

    # Notifications (docs/notifications.md): a review is due this many working days after its assignment; reviewers
    # are reminded, and officers warned of a dossier's statutory due date, this many working days before.
    review_period_working_days: int = Field(default=10, ge=1, le=120)
    review_reminder_working_days: int = Field(default=2, ge=0, le=60)
    dossier_reminder_working_days: int = Field(default=3, ge=0, le=60)
    # The reminder and overdue checks run in every replica every this many seconds; one at a time (advisory lock).
    notification_scheduler_enabled: bool = True
    notification_scheduler_interval_seconds: float = Field(default=300.0, gt=0, le=86_400)

    # Webhooks for egov clients: delivery from the outbox by a dispatcher in every replica (state in the database).
    webhook_dispatcher_enabled: bool = True  # also needs outbox_enabled (tests turn both off)
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="Whole attempt: connect, send, answer headers"
    )
    webhook_max_age_seconds: int = Field(
        default=3 * 24 * 3600, ge=1, description="Retry a delivery this long, then dead-letter it"
    )
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0)
    webhook_retry_cap_seconds: float = Field(default=3600.0, gt=0)
    webhook_concurrency: int = Field(default=16, ge=1, le=256, description="POSTs in flight per dispatcher")
    webhook_max_subscriptions: int = Field(default=20, ge=1, le=1000, description="Per egov client")
    # Where webhooks may point. None = allowed in dev/test only (the e2e stack runs receivers on loopback).
    webhook_allow_loopback: bool | None = None
    webhook_allow_private: bool = False
    webhook_allowed_hosts: str = Field(
        default="", description="Comma-separated host names; '*.example.vn' allows subdomains; empty: any public host"
    )
    # AES-256-GCM key (base64 of 32 bytes) that encrypts subscription secrets at rest; previous keys
    # (comma-separated) still decrypt during a key rotation. Without a key, dev/test use a fixed development key.
    webhook_secret_key: SecretStr | None = None
    webhook_secret_previous_keys: SecretStr = SecretStr("")

    # E-mail from the notifications (docs/notifications.md "Mail"): a sender loop in every replica, on when
    # smtp_host is set. smtp_security: "none", "starttls" (upgrade a plain connection) or "tls" (implicit TLS, 465).
    smtp_host: str = Field(default="", max_length=253, description="SMTP server; empty: no mail is sent")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str = Field(default="", max_length=320, description="AUTH user; empty: no AUTH")
    smtp_password: SecretStr = SecretStr("")
    smtp_ca_file: Path | None = Field(default=None, description="PEM CA bundle to trust instead of the system's")
    smtp_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    mail_from: str = Field(default="Sở Công Thương Hà Nội <no-reply@sct-hanoi.example>", min_length=3, max_length=320)
    portal_base_url: str = Field(default="http://127.0.0.1:18200", description="Links in mails point here")
    mail_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    mail_batch_size: int = Field(default=20, ge=1, le=500)
    mail_claim_seconds: float = Field(
        default=300.0, gt=0, description="A claimed mail not settled by then (its sender died) is sent again"
    )
    mail_retry_base_seconds: float = Field(default=5.0, gt=0)
    mail_retry_cap_seconds: float = Field(default=900.0, gt=0)
    mail_max_age_seconds: int = Field(default=3 * 24 * 3600, ge=1, description="Retry this long, then failed")

    @field_validator("registry_url", "verification_url", "portal_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("webhook_secret_key", "webhook_secret_previous_keys")
    @classmethod
    def _aes_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        for key in filter(None, (k.strip() for k in value.get_secret_value().split(","))):
            try:
                raw = base64.b64decode(key, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("webhook secret keys are base64 (of 32 random bytes)") from None
            if len(raw) != 32:
                raise ValueError("a webhook secret key is 32 bytes (AES-256), base64-encoded")
        return value

    @model_validator(mode="after")
    def _claim_outlasts_a_send(self) -> ApplicationsSettings:
        # One SMTP transaction is several round trips, each bounded by the timeout: a claim shorter than that
        # would let another replica send a mail that is still being sent.
        if self.mail_claim_seconds < 10 * self.smtp_timeout_seconds:
            raise ValueError("APPLICATIONS_MAIL_CLAIM_SECONDS must be at least 10 × APPLICATIONS_SMTP_TIMEOUT_SECONDS")
        return self

    @model_validator(mode="after")
    def _outbox_outlives_webhooks(self) -> ApplicationsSettings:
        # A webhook delivery reads its event from the outbox at every attempt: the retention must cover the whole
        # retry window, and twice that leaves time for a manual redelivery of a dead one (docs/performance.md).
        if 0 < self.outbox_retention_days * 86400 < 2 * self.webhook_max_age_seconds:
            raise ValueError(
                "APPLICATIONS_OUTBOX_RETENTION_DAYS must cover at least twice APPLICATIONS_WEBHOOK_MAX_AGE_SECONDS"
            )
        return self

    @model_validator(mode="after")
    def _loopback_default(self) -> ApplicationsSettings:
        if self.webhook_allow_loopback is None:
            self.webhook_allow_loopback = self.is_dev_or_test
        return self

    @property
    def upload_tmp_dir(self) -> Path:
        """Where uploads are received before they are typed and stored (a scratch folder of this machine)."""
        return self.document_dir / "tmp"

    @property
    def is_dev_or_test(self) -> bool:
        return self.environment.strip().lower() in ("dev", "development", "test")

    @property
    def webhook_host_allow_list(self) -> tuple[str, ...]:
        return tuple(h.strip().lower().rstrip(".") for h in self.webhook_allowed_hosts.split(",") if h.strip())


MIGRATIONS = "cleanprod_applications:migrations"
