"""The filters of the applications list, one dependency shared by the list and its exports (same query, same
parameters, same access rules)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Query

from cleanprod_kit.fields import Param, QueryFlag

from ..domain import ApplicationStatus


class ApplicationFilters:
    def __init__(
        self,
        status: ApplicationStatus | None = None,
        call_id: uuid.UUID | None = None,
        enterprise_id: uuid.UUID | None = None,
        tax_code: Param | None = Query(None, max_length=20),
        dossier_code: Param | None = Query(None, max_length=32),
        sector_code: Param | None = Query(None, max_length=32, description="The facility's sector code"),
        ward: Param | None = Query(None, max_length=120, description="The facility's ward or commune, any accents"),
        district: Param | None = Query(None, max_length=120, description="The facility's district, any accents"),
        q: Param | None = Query(
            None, max_length=200, description="Accent-insensitive words in title, enterprise, facility or dossier code"
        ),
        overdue: QueryFlag | None = Query(
            None,
            description="true: only dossiers past their statutory due date "
            "that still await a result; false: the others",
        ),
    ) -> None:
        self.status, self.call_id, self.enterprise_id = status, call_id, enterprise_id
        self.tax_code, self.dossier_code, self.q = tax_code, dossier_code, q
        self.overdue = overdue
        self.sector_code = sector_code
        self.ward, self.district = ward, district

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "call_id": self.call_id,
            "enterprise_id": self.enterprise_id,
            "tax_code": self.tax_code,
            "dossier_code": self.dossier_code,
            "q": self.q,
            "overdue": self.overdue,
            "sector_code": self.sector_code,
            "ward": self.ward,
            "district": self.district,
        }
