"""The filters of the facilities list, one dependency shared by the list and its export.

Read by an `async def` dependency: FastAPI runs a plain callable (a class's `__init__` too) in its thread pool,
a thread hop per request (session 7, docs/performance.md "Facility search")."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query

from cleanprod_kit.fields import Param

from .models import FacilityStatus


class FacilityFilters:
    def __init__(
        self,
        q: str | None,
        sector: str | None,
        ward: str | None,
        district: str | None,
        enterprise_id: uuid.UUID | None,
        status: FacilityStatus | None,
    ) -> None:
        self.q, self.sector, self.ward, self.district = q, sector, ward, district
        self.enterprise_id, self.status = enterprise_id, status

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "q": self.q,
            "sector": self.sector,
            "ward": self.ward,
            "district": self.district,
            "enterprise_id": self.enterprise_id,
            "status": self.status,
        }


async def facility_filters(
    q: Param | None = Query(None, max_length=200, description="Accent-insensitive words in name or address"),
    sector: Param | None = Query(None, max_length=32),
    ward: Param | None = Query(None, max_length=120),
    district: Param | None = Query(None, max_length=120),
    enterprise_id: uuid.UUID | None = None,
    status: FacilityStatus | None = None,
) -> FacilityFilters:
    return FacilityFilters(q, sector, ward, district, enterprise_id, status)


FacilityFiltersDep = Annotated[FacilityFilters, Depends(facility_filters)]
