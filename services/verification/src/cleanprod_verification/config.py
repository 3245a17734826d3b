from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from cleanprod_kit.settings import ServiceSettings

from .mv import AcceptanceCriteria, MVSettings, VerdictRules


class VerificationSettings(ServiceSettings):
    """Environment variables are prefixed VERIFICATION_ (e.g. VERIFICATION_DATABASE_URL)."""

    model_config = SettingsConfigDict(env_prefix="VERIFICATION_", extra="ignore")

    service_name: str = "verification"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:15432/cleanprod_verification"

    # The registry is asked (with this service's own client-credentials token) for the facility, its baseline
    # periods (frozen into the case when the application is approved) and the sector norm at conclusion.
    registry_url: str = "http://127.0.0.1:18101"
    registry_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    # Verdict rules (see cleanprod_verification.mv.verdict): the programme says 6–8 %; 6 is its lower end.
    programme_target_percent: float = Field(default=6.0, gt=0, le=100)
    # The public results show no group of fewer enterprises (docs/verification.md "Public results").
    public_results_min_enterprises: int = Field(default=3, ge=1, le=100)
    claim_tolerance_pp: float = Field(default=0.5, ge=0, le=20)
    require_uncertainty_within_limit: bool = True

    # Model acceptance (see cleanprod_verification.mv.criteria for where each default comes from).
    min_baseline_periods: int = Field(default=12, ge=3, le=120)
    min_r_squared: float = Field(default=0.50, ge=0, le=1)
    max_cv_rmse: float = Field(default=0.15, gt=0, le=1)
    range_tolerance: float = Field(default=0.10, ge=0, le=10)
    fsu_confidence: float = Field(default=0.90, gt=0, lt=1)
    production_shift_warning: float = Field(default=0.10, ge=0, le=10)

    # A verifier concludes only after the applications service reported the project complete
    # (event application.completed); switch off only for programmes that verify before completion.
    require_completion_before_conclusion: bool = True

    # Printed at the top of the verification report.
    agency_name_vi: str = "Sở Công Thương Hà Nội"
    agency_name_en: str = "Hanoi Department of Industry and Trade"

    @field_validator("registry_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def mv_settings(self) -> MVSettings:
        return MVSettings(
            criteria=AcceptanceCriteria(
                min_baseline_periods=self.min_baseline_periods,
                min_r_squared=self.min_r_squared,
                max_cv_rmse=self.max_cv_rmse,
                range_tolerance=self.range_tolerance,
            ),
            verdict=VerdictRules(
                claim_tolerance_pp=self.claim_tolerance_pp,
                programme_target_percent=self.programme_target_percent,
                require_uncertainty_within_limit=self.require_uncertainty_within_limit,
            ),
            fsu_confidence=self.fsu_confidence,
            production_shift_warning=self.production_shift_warning,
        )


MIGRATIONS = "cleanprod_verification:migrations"
