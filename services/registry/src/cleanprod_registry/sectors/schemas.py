from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, Field, field_validator, model_validator

from cleanprod_kit.errors import InvalidValue
from cleanprod_kit.fields import CalendarDate, Flag, PatchBody, StrictBody, Text

from ..schemas import Text200
from .bands import parse_band

SectorCodeStr = Text(32, pattern=r"^[a-z][a-z0-9_]{1,31}$")


class SectorCreate(StrictBody):
    code: SectorCodeStr
    name_vi: Text200
    name_en: Text200
    priority: Flag = False


class SectorUpdate(PatchBody):
    name_vi: Text200 = None
    name_en: Text200 = None
    priority: Flag = None


class SectorPublic(BaseModel):
    code: str
    name_vi: str
    name_en: str
    priority: bool
    version: int


class NormCreate(StrictBody):
    circular: Text(64, min_length=3)
    sector_code: SectorCodeStr
    product: Text200
    capacity_band: Text(100, min_length=0) | None = None
    unit: Text(32)
    value: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]
    valid_from: CalendarDate
    valid_to: CalendarDate
    source_url: Text(1000, min_length=0, strip=False) | None = None

    @field_validator("capacity_band")
    @classmethod
    def _band_parses(cls, value: str | None) -> str | None:
        parse_band(value)  # raises ValueError with a readable message
        return value or None

    @model_validator(mode="after")
    def _dates(self) -> NormCreate:
        if self.valid_to < self.valid_from:
            raise InvalidValue("end_before_start", "valid_to is before valid_from", start=self.valid_from.isoformat())
        return self


class NormPublic(BaseModel):
    id: uuid.UUID
    circular: str
    sector_code: str
    product: str
    capacity_band: str | None
    unit: str
    value: float
    valid_from: dt.date
    valid_to: dt.date
    source_url: str | None
    version: int
