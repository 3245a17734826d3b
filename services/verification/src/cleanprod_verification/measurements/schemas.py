from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from cleanprod_kit.errors import InvalidValue
from cleanprod_kit.fields import Flag, ProgrammeDate, StrictBody, Text
from cleanprod_kit.units import CarrierQuantity, ProductionQuantity

from ..schemas import Text200, Text2000

DegreeDays = Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)]
MAX_PERIOD_DAYS = 366


class Evidence(StrictBody):
    """Where the figures come from: a document in the applications service (its id) and/or a URL, described."""

    document_id: Text200 | None = None
    url: Text(2000, min_length=0, pattern=r"^https?://\S+$") | None = None
    description: Text2000

    @model_validator(mode="after")
    def _points_somewhere(self) -> Evidence:
        if not self.document_id and not self.url:
            raise InvalidValue("evidence_missing", "evidence needs a document_id or a url (and a description)")
        return self


class MeasurementFields(StrictBody):
    period_start: ProgrammeDate
    period_end: ProgrammeDate = Field(description="Last day included")
    production: ProductionQuantity
    consumption: list[CarrierQuantity] = Field(min_length=1, max_length=20)
    cdd: DegreeDays | None = Field(default=None, description="Cooling degree-days of the period")
    hdd: DegreeDays | None = Field(default=None, description="Heating degree-days of the period")
    estimated: Flag = Field(default=False, description="true when the figures are estimated, not metered")
    evidence: Evidence

    @model_validator(mode="after")
    def _consistent(self) -> MeasurementFields:
        if self.period_end < self.period_start:
            raise InvalidValue(
                "end_before_start", "period_end is before period_start", start=self.period_start.isoformat()
            )
        if (self.period_end - self.period_start).days >= MAX_PERIOD_DAYS:
            raise InvalidValue(
                "period_too_long",
                f"a measurement period is at most {MAX_PERIOD_DAYS} days long",
                max_days=MAX_PERIOD_DAYS,
            )
        carriers = [c.carrier for c in self.consumption]
        repeated = sorted({c for c in carriers if carriers.count(c) > 1})
        if repeated:
            raise InvalidValue(
                "duplicate_carrier",
                f"each carrier may appear once per period ({', '.join(repeated)}); add the meters up",
                repeated=", ".join(repeated),
            )
        return self


class MeasurementCreate(MeasurementFields):
    pass


class MeasurementRevise(MeasurementFields):
    reason: Text2000 = Field(description="Why the figures are corrected")


class WithdrawalBody(StrictBody):
    reason: Text2000 = Field(description="Why the period is withdrawn (e.g. recorded for the wrong meter)")


class RevisionPublic(BaseModel):
    revision: int
    period_start: dt.date
    period_end: dt.date
    production: dict[str, Any]
    consumption: list[dict[str, Any]]
    cdd: float | None
    hdd: float | None
    estimated: bool
    evidence: dict[str, Any]
    withdrawn: bool = False
    reason: str | None
    recorded_by: str
    recorded_at: dt.datetime


class MeasurementPublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    revision: int = Field(description="The latest revision's number (also the ETag)")
    withdrawn: bool = Field(default=False, description="Withdrawn by its latest revision: not computed")
    period_start: dt.date
    period_end: dt.date
    current: RevisionPublic
    revisions: list[RevisionPublic] = Field(description="Every revision, oldest first")
    created_at: dt.datetime
    updated_at: dt.datetime
