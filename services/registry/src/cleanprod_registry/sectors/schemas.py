from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from cleanprod_kit.errors import InvalidValue

from ..schemas import StrictBody, Text200
from .bands import parse_band

SectorCodeStr = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{1,31}$")]


class SectorCreate(StrictBody):
    code: SectorCodeStr
    name_vi: Text200
    name_en: Text200
    priority: bool = False


class SectorUpdate(StrictBody):
    name_vi: Text200 | None = None
    name_en: Text200 | None = None
    priority: bool | None = None


class SectorPublic(BaseModel):
    code: str
    name_vi: str
    name_en: str
    priority: bool
    version: int


class NormCreate(StrictBody):
    circular: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=64)]
    sector_code: SectorCodeStr
    product: Text200
    capacity_band: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    value: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]
    valid_from: dt.date
    valid_to: dt.date
    source_url: Annotated[str, StringConstraints(max_length=1000)] | None = None

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
