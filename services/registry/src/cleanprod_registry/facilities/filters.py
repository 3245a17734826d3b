"""The filters of the facilities list, one dependency shared by the list and its export."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Query

from cleanprod_kit.fields import Param

from .models import FacilityStatus


class FacilityFilters:
    def __init__(
        self,
        q: Param | None = Query(None, max_length=200, description="Accent-insensitive words in name or address"),
        sector: Param | None = Query(None, max_length=32),
        ward: Param | None = Query(None, max_length=120),
        district: Param | None = Query(None, max_length=120),
        enterprise_id: uuid.UUID | None = None,
        status: FacilityStatus | None = None,
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
