from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from cleanprod_kit.errors import InvalidValue

from ..domain.support_types import SupportType
from ..funding.schemas import FundingSourceBody
from ..schemas import (
    BasisPoints,
    Code,
    DecimalNumber,
    Integral,
    LongText,
    PatchBody,
    PositiveVnd,
    ProgrammeDate,
    SectorCode,
    StrictBody,
    Text200,
    Text300,
    Vnd,
)

Weight = Annotated[Decimal, Field(gt=0, le=1000, max_digits=8, decimal_places=3, allow_inf_nan=False)]
MaxScore = Annotated[Decimal, Field(gt=0, le=1000, max_digits=8, decimal_places=3, allow_inf_nan=False)]
PassScore = Annotated[
    Decimal,
    Field(
        ge=0,
        le=100,
        max_digits=5,
        decimal_places=2,
        allow_inf_nan=False,
        description="Minimum mean review score, in percent",
    ),
]


ReviewCount = Annotated[int, Integral, Field(ge=1, le=20, strict=True)]  # 2.0 is 2, as for money


class CriterionBody(StrictBody):
    code: Code
    name: Text200
    weight: Weight
    max_score: MaxScore


def _check_criteria(criteria: list[CriterionBody] | None) -> None:
    if criteria is None:
        return
    codes = [c.code for c in criteria]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise InvalidValue(
            "duplicate_criterion",
            f"criterion codes must be unique; repeated: {', '.join(repeated)}",
            repeated=", ".join(repeated),
        )


def _check_sectors(sectors: list[str] | None) -> None:
    if sectors is not None and len(set(sectors)) != len(sectors):
        raise InvalidValue("duplicate_sector", "eligible_sectors lists a sector more than once")


def _check_funding(body: CallCreate) -> None:
    sources = body.funding_sources
    if sources is None:
        return
    codes = [s.code for s in sources]
    if len(set(codes)) != len(codes):
        raise InvalidValue("duplicate_source_code", "each funding source needs its own code within the call")
    total = sum(s.amount_vnd for s in sources)
    if body.budget_vnd != total:
        raise InvalidValue(
            "budget_not_sum_of_sources",
            f"budget_vnd must equal the sum of the sources' amounts ({total})",
            total=total,
        )
    for source in sources:
        extra = sorted(set(source.support_types) - set(body.support_types))
        if extra:
            raise InvalidValue(
                "source_type_not_in_call",
                f"source {source.code} funds support types the call does not: {', '.join(extra)}",
                source=source.code,
                support_types=", ".join(extra),
            )


class CallCreate(StrictBody):
    code: Code
    title: Text300
    description: LongText | None = None
    opens_on: ProgrammeDate
    closes_on: ProgrammeDate
    budget_vnd: PositiveVnd = Field(
        description="The call's budget; with funding_sources it must equal their sum; without, it is one source, "
        "the city budget"
    )
    support_types: list[SupportType] = Field(
        default_factory=lambda: [SupportType.TECHNOLOGY_TRANSFER],
        min_length=1,
        max_length=3,
        description="What the call funds (default technology_transfer)",
    )
    funding_sources: list[FundingSourceBody] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="The sources the budget is made of, in the order awards draw on them",
    )
    support_rate_bp: BasisPoints
    cap_per_project_vnd: PositiveVnd
    eligible_sectors: list[SectorCode] = Field(min_length=1, max_length=100)
    criteria: list[CriterionBody] = Field(min_length=1, max_length=30)
    min_reviews: ReviewCount
    pass_score_pct: PassScore

    @model_validator(mode="after")
    def _consistent(self) -> CallCreate:
        if self.closes_on < self.opens_on:
            raise InvalidValue("closes_before_opens", "closes_on must be on or after opens_on")
        _check_criteria(self.criteria)
        _check_sectors(self.eligible_sectors)
        if len(set(self.support_types)) != len(self.support_types):
            raise InvalidValue("duplicate_support_type", "support_types lists a type more than once")
        _check_funding(self)
        return self


class CallUpdate(PatchBody):
    """Partial update (PATCH): only the fields sent change. The code never changes."""

    title: Text300 = None
    description: LongText | None = None
    opens_on: ProgrammeDate = None
    closes_on: ProgrammeDate = None
    budget_vnd: PositiveVnd = None
    support_rate_bp: BasisPoints = None
    cap_per_project_vnd: PositiveVnd = None
    eligible_sectors: list[SectorCode] = Field(default=None, min_length=1, max_length=100)
    criteria: list[CriterionBody] = Field(default=None, min_length=1, max_length=30)
    min_reviews: ReviewCount = None
    pass_score_pct: PassScore = None

    @model_validator(mode="after")
    def _consistent(self) -> CallUpdate:
        _check_criteria(self.criteria)
        _check_sectors(self.eligible_sectors)
        return self


class CriterionPublic(BaseModel):
    code: str
    name: str
    weight: DecimalNumber
    max_score: DecimalNumber


class CallPublic(BaseModel):
    id: uuid.UUID
    code: str
    title: str
    description: str | None
    opens_on: dt.date
    closes_on: dt.date
    is_open: bool = Field(description="Whether today (Hanoi time) is within opens_on..closes_on")
    budget_vnd: int
    committed_vnd: int
    remaining_vnd: int
    support_types: list[str]
    support_rate_bp: int
    cap_per_project_vnd: int
    eligible_sectors: list[str]
    criteria: list[CriterionPublic]
    min_reviews: int
    pass_score_pct: DecimalNumber
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


__all__ = ["CallCreate", "CallPublic", "CallUpdate", "CriterionBody", "CriterionPublic", "Vnd"]
