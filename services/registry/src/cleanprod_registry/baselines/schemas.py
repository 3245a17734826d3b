from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from cleanprod_kit.errors import InvalidValue
from cleanprod_kit.fields import Flag, ProgrammeDate, StrictBody
from cleanprod_kit.units import CarrierQuantity, ProductionQuantity

from ..schemas import Notes

DegreeDays = Annotated[float, Field(ge=0, le=10_000, allow_inf_nan=False)]


class BaselineFields(StrictBody):
    period_start: ProgrammeDate
    period_end: ProgrammeDate
    production: ProductionQuantity
    consumption: list[CarrierQuantity] = Field(min_length=1, max_length=20)
    cdd: DegreeDays | None = None
    hdd: DegreeDays | None = None
    estimated: Flag = False
    notes: Notes | None = None

    @model_validator(mode="after")
    def _consistent(self) -> BaselineFields:
        if self.period_end < self.period_start:
            raise InvalidValue(
                "end_before_start", "period_end is before period_start", start=self.period_start.isoformat()
            )
        if (self.period_end - self.period_start).days > 366:
            raise InvalidValue("period_too_long", "a baseline period is at most one year long", max_days=366)
        carriers = [c.carrier for c in self.consumption]
        if len(carriers) != len(set(carriers)):
            raise InvalidValue(
                "duplicate_carrier",
                "each carrier may appear once per period; add the quantities up",
                repeated=", ".join(sorted({c for c in carriers if carriers.count(c) > 1})),
            )
        return self


class BaselinePublic(BaseModel):
    id: uuid.UUID
    facility_id: uuid.UUID
    period_start: dt.date
    period_end: dt.date
    production: ProductionQuantity
    consumption: list[CarrierQuantity]
    cdd: float | None
    hdd: float | None
    estimated: bool
    notes: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
