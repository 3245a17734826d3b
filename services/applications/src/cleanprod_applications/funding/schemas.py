from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from ..domain.funding import SourceKind
from ..domain.support_types import SupportType
from ..schemas import Code, LongText, PatchBody, PositiveVnd, StrictBody, Text300


class FundingSourceBody(StrictBody):
    """One source of a call's budget; the call's budget is the sum of its sources' amounts."""

    code: Code = Field(description="Unique within the call, e.g. city-budget, donor-sida")
    name: Text300
    kind: SourceKind
    amount_vnd: PositiveVnd
    support_types: list[SupportType] = Field(
        default_factory=list, max_length=3, description="The support types it may fund (empty: any the call funds)"
    )
    conditions: LongText | None = Field(default=None, description="The donor's other conditions, for the officers")


class FundingSourceUpdate(PatchBody):
    """A source's name, conditions or amount (the call's budget moves by the difference; never below what the source
    has committed). Its code, kind, support types and order stay: awards already drew on them."""

    name: Text300 = None
    amount_vnd: PositiveVnd = None
    conditions: LongText | None = None


class SourceFigures(BaseModel):
    """Money of one source, one call or one application (docs/applications.md "Money"): awarded = paid + cancelled +
    outstanding; committed = awarded − cancelled − recovery_raised; recovery_raised = recovered +
    recovery_outstanding."""

    awarded_vnd: int
    paid_vnd: int
    cancelled_vnd: int
    outstanding_vnd: int
    recovery_raised_vnd: int
    recovered_vnd: int
    recovery_outstanding_vnd: int
    committed_vnd: int


class FundingSourcePublic(BaseModel):
    id: uuid.UUID
    call_id: uuid.UUID
    code: str
    name: str
    kind: SourceKind
    rank: int
    amount_vnd: int
    committed_vnd: int
    remaining_vnd: int
    support_types: list[str]
    conditions: str | None
    version: int


class FundingSourceReport(FundingSourcePublic):
    figures: SourceFigures


class CallFunding(BaseModel):
    """A call's money per source and in all."""

    call_id: uuid.UUID
    budget_vnd: int
    figures: SourceFigures
    sources: list[FundingSourceReport]


class AllocationPublic(BaseModel):
    source_id: uuid.UUID
    source_code: str
    amount_vnd: int


class ApplicationFunding(BaseModel):
    """An application's award per source and its money in all."""

    application_id: uuid.UUID
    awarded_vnd: int
    figures: SourceFigures
    allocations: list[AllocationPublic]
    by_source: dict[str, SourceFigures] = Field(description="The figures per source code")
