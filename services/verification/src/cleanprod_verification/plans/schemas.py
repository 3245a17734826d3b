"""The M&V plan of a case (which baseline model, on what degree-day basis) and the approved reporting start."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from cleanprod_kit.fields import ProgrammeDate, StrictBody

from ..schemas import Text200, Text2000

Temperature = Annotated[float, Field(ge=-50, le=150, allow_inf_nan=False)]


class MVPlanBody(StrictBody):
    model: Literal["production", "weather", "production_weather"] = Field(
        description="E = a + b·P | E = a + c·CDD + d·HDD | E = a + b·P + c·CDD + d·HDD"
    )
    degree_day_unit: Literal["C", "F"] = Field(
        default="C", description="Unit of every degree-day figure of the case (baseline and reporting)"
    )
    cdd_base: Temperature | None = Field(default=None, description="CDD base temperature in degree_day_unit")
    hdd_base: Temperature | None = Field(default=None, description="HDD base temperature in degree_day_unit")
    station: Text200 | None = Field(default=None, description="Weather station the degree-days come from")
    note: Text2000 | None = None


class MVPlanPublic(BaseModel):
    model: str | None = Field(description="None: no plan (production, plus degree-days given for the baseline)")
    degree_day_unit: str = "C"
    cdd_base: float | None = None
    hdd_base: float | None = None
    station: str | None = None
    note: str | None = None
    set_by: str | None = None
    set_at: dt.datetime | None = None


class ReportingStartBody(StrictBody):
    reporting_start: ProgrammeDate = Field(description="First day a reporting period may start")
    note: Text2000 = Field(description="Why reporting starts on this day (e.g. commissioning before completion)")


class ReportingStartPublic(BaseModel):
    reporting_start: dt.date | None
    note: str | None
    completed_on: dt.date | None
