from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, Field

from cleanprod_kit.fields import PatchBody, StrictBody, Text

from ..schemas import Place, Text300, Text500
from .models import FacilityStatus

Product = Text(200)
SectorCode = Text(32)
CapacityUnit = Text(32)
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Capacity = Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)]


class FacilityCreate(StrictBody):
    name: Text300
    sector_code: SectorCode
    products: list[Product] = Field(default_factory=list, max_length=50)
    capacity_quantity: Capacity | None = None
    capacity_unit: CapacityUnit | None = None
    address: Text500
    ward: Place
    district: Place | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    status: FacilityStatus = FacilityStatus.active


class FacilityUpdate(PatchBody):
    name: Text300 = None
    sector_code: SectorCode = None
    products: list[Product] = Field(default=None, max_length=50)
    capacity_quantity: Capacity | None = None
    capacity_unit: CapacityUnit | None = None
    address: Text500 = None
    ward: Place = None
    district: Place | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    status: FacilityStatus = None


class FacilityPublic(BaseModel):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    enterprise_tax_code: str | None = None
    name: str
    sector_code: str
    products: list[str]
    capacity_quantity: float | None
    capacity_unit: str | None
    address: str
    ward: str
    district: str | None
    latitude: float | None
    longitude: float | None
    status: FacilityStatus
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
