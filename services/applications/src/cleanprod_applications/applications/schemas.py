from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from cleanprod_kit.audit import AuditRecord
from cleanprod_kit.errors import InvalidValue
from cleanprod_kit.tax_codes import normalise_tax_code
from cleanprod_kit.units import CARRIER_UNITS, Quantity, carrier_unit_choices, check_carrier_unit

from ..domain import ApplicationStatus
from ..domain.support_types import SupportType
from ..grants.schemas import TranchePublic
from ..schemas import LongText, PatchBody, Percent, PositiveVnd, ProgrammeDate, Reason, StrictBody, Text, Text300

TaxCode = Annotated[Text(20, min_length=10), AfterValidator(normalise_tax_code)]


class Supplier(StrictBody):
    name: Text300
    tax_code: TaxCode | None = None


def _claim_schema(schema: dict[str, Any]) -> None:
    # The validator's vocabulary, stated in the document: known carriers, each with its own units.
    schema["properties"]["carrier"]["enum"] = list(CARRIER_UNITS)
    schema["anyOf"] = carrier_unit_choices(("annual_saving", "unit"))


class CarrierClaim(StrictBody):
    """The saving promised on one energy carrier (material, fuel or energy), in percent of its baseline use;
    optionally also as a yearly quantity in one of the carrier's units."""

    model_config = ConfigDict(json_schema_extra=_claim_schema)

    carrier: Text(32) = Field(examples=["electricity"])
    saving_pct: Percent
    annual_saving: Quantity | None = None

    @model_validator(mode="after")
    def _known_carrier(self) -> CarrierClaim:
        check_carrier_unit(self.carrier, self.annual_saving.unit if self.annual_saving is not None else None)
        return self


def _check_claims(claims: list[CarrierClaim] | None) -> None:
    if claims is None:
        return
    carriers = [c.carrier for c in claims]
    repeated = sorted({c for c in carriers if carriers.count(c) > 1})
    if repeated:
        raise InvalidValue(
            "duplicate_carrier",
            f"each carrier may be claimed once; repeated: {', '.join(repeated)}",
            repeated=", ".join(repeated),
        )


class ApplicationFields(StrictBody):
    """The dossier's content. Every field may be left out while drafting (save as you go); submission refuses the
    dossier until the fields of REQUIRED_TO_SUBMIT are there (see `completeness`). `null` is accepted only for
    the fields of NULLABLE (leave a field out to keep it empty or unchanged) — the kit's PATCH rule, declared by
    each field's type."""

    support_type: SupportType = Field(
        default=None,
        description="cp_assessment | technology_transfer | replication: one the call funds (default "
        "technology_transfer); its rules (rate and cap ceilings, documents, verification) in docs/applications.md",
    )
    title: Text300 = None
    technology: LongText = Field(default=None, description="The cleaner technology to adopt and how")
    supplier: Supplier | None = None
    total_cost_vnd: PositiveVnd = None
    eligible_cost_vnd: PositiveVnd = None
    requested_support_vnd: PositiveVnd = None
    claimed_savings: list[CarrierClaim] = Field(default=None, min_length=1, max_length=len(CARRIER_UNITS))
    claimed_overall_saving_pct: Percent = None
    implementation_start: ProgrammeDate = None
    implementation_end: ProgrammeDate = None

    @model_validator(mode="after")
    def _consistent(self) -> ApplicationFields:
        _check_claims(self.claimed_savings)
        return self


REQUIRED_TO_SUBMIT = (
    "title",
    "technology",
    "total_cost_vnd",
    "eligible_cost_vnd",
    "requested_support_vnd",
    "claimed_savings",
    "claimed_overall_saving_pct",
    "implementation_start",
    "implementation_end",
)
"""In the order of the application form (the portal's task list follows it)."""
NULLABLE = frozenset({"supplier"})
"""Fields a client may set to null (the supplier is optional: not every project buys from one)."""


class ApplicationCreate(ApplicationFields):
    """A draft needs only the call and the facility; the rest may follow with PATCH."""

    call_id: uuid.UUID
    facility_id: uuid.UUID


class ApplicationUpdate(ApplicationFields, PatchBody):
    """Partial update (PATCH) of a draft, or of a dossier sent back with changes requested. The call and the
    facility are the dossier's identity and never change: start a new draft instead."""

    not_clearable = frozenset(REQUIRED_TO_SUBMIT)  # empty in a fresh draft, never cleared once given


class ScreeningReasonPublic(BaseModel):
    code: str
    message: str
    field: str | None = None


class ReviewSummaryPublic(BaseModel):
    assigned: int
    recused: int
    counted: int = Field(description="Non-recused reviewers who have scored")
    min_reviews: int
    mean_score_pct: float | None
    pass_score_pct: float
    passed: bool


class ApplicationPublic(BaseModel):
    id: uuid.UUID
    call_id: uuid.UUID
    status: ApplicationStatus
    egov_status: int | None = Field(description="National TrangThaiHoSo code (null while a draft)")
    allowed_actions: list[str] = Field(description="Lifecycle actions drawn from the current status")
    dossier_code: str | None
    facility_id: uuid.UUID
    facility_name: str
    enterprise_id: uuid.UUID
    enterprise_tax_code: str
    enterprise_name: str
    sector_code: str
    support_type: str
    ward: str | None = Field(None, description="The facility's ward or commune (phường/xã), as the registry had it")
    district: str | None = Field(None, description="The facility's district where the registry records one")
    title: str | None
    technology: str | None
    supplier: Supplier | None
    total_cost_vnd: int | None
    eligible_cost_vnd: int | None
    requested_support_vnd: int | None
    claimed_savings: list[CarrierClaim]
    claimed_overall_saving_pct: float | None
    implementation_start: dt.date | None
    implementation_end: dt.date | None
    first_submitted_at: dt.datetime | None
    submitted_at: dt.datetime | None
    screening_reasons: list[ScreeningReasonPublic]
    due_at: dt.datetime | None = Field(
        description="Statutory due date: reception + processing days in working days (Vietnamese public holidays "
        "and announced swaps excluded), the days a supplement request waited not counted; null for a "
        "draft and while the clock is stopped"
    )
    clock_stopped_at: dt.datetime | None = Field(
        description="Since when the clock has been stopped (a supplement is requested); null while it runs"
    )
    overdue: bool = Field(
        description="The Department still owes a result (submitted, under review) and the due date has passed"
    )
    open_supplement_id: uuid.UUID | None = Field(
        description="The open supplement request (…/supplement-requests): while set, e-gov status 5, clock stopped"
    )
    review_summary: ReviewSummaryPublic | None = Field(
        default=None, description="Shown to officers, auditors, verifiers and services"
    )
    review_score_pct: float | None
    approved_support_vnd: int | None
    award_limit: str | None = Field(description="requested | rate | cap | budget: what bound the approved amount")
    decided_at: dt.datetime | None
    decided_by: str | None
    decision_reason: str | None
    started_on: dt.date | None
    completed_on: dt.date | None
    verification_id: str | None
    achieved_ratio: float | None
    verified_savings_pct: float | None
    verified_at: dt.datetime | None
    tranches: list[TranchePublic]
    missing_fields: list[str] = Field(
        description="Fields submission would still refuse (missing or inconsistent), in form order; empty once "
        "the dossier is complete"
    )
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ApplicationSummary(BaseModel):
    """One line of an applications list as a dashboard shows it (`GET /applications/summaries`): the full object
    is about 1.9 KB, this about 0.3 KB."""

    id: uuid.UUID
    status: ApplicationStatus
    dossier_code: str | None
    facility_name: str
    title: str | None
    requested_support_vnd: int | None
    open_supplement_id: uuid.UUID | None
    missing_fields: list[str] = Field(description="As in the full object: what submission would still refuse")


class TransitionBody(StrictBody):
    reason: Reason | None = None


class StartBody(TransitionBody):
    started_on: ProgrammeDate | None = Field(default=None, description="Defaults to today (Hanoi calendar)")


class CompletionBody(TransitionBody):
    completed_on: ProgrammeDate | None = Field(default=None, description="Defaults to today (Hanoi calendar)")


class HistoryEntry(AuditRecord):
    """The kit's audit record (the one history shape of the three services) plus this service's older names
    `from_status`/`to_status` for `from_state`/`to_state`, kept for existing clients."""

    from_status: str | None
    to_status: str | None

    @classmethod
    def of(cls, record: AuditRecord) -> HistoryEntry:
        return cls(**record.model_dump(), from_status=record.from_state, to_status=record.to_state)
