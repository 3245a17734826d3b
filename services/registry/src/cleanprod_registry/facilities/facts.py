"""The facility and its enterprise for another service (`GET /internal/facilities/{id}/facts`, service accounts):
what the applications service records of both when an application is created — every create asks once.

Read on the driver (kit `Read`: one SELECT built and compiled once, no ORM session, no entities), as the public
facility read is (issue 16): the same columns `get_facility` + `to_public` + `EnterprisePublic` answer."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, select

from cleanprod_kit.auth import Principal
from cleanprod_kit.db import Database, Read
from cleanprod_kit.errors import NotFound

from ..access import ensure_readable
from ..enterprises.models import Enterprise
from ..enterprises.schemas import EnterprisePublic
from .models import Facility
from .schemas import FacilityPublic

_ENTERPRISE = "enterprise__"  # the enterprise's columns are labelled with this prefix in the one row
_FACILITY_FIELDS = tuple(name for name in FacilityPublic.model_fields if name != "enterprise_tax_code")
_FACTS = Read(
    select(
        *(getattr(Facility, name) for name in _FACILITY_FIELDS),
        *(col(getattr(Enterprise, name)).label(_ENTERPRISE + name) for name in EnterprisePublic.model_fields),
    )
    .join(Enterprise, Enterprise.id == Facility.enterprise_id)  # type: ignore[arg-type]
    .where(Facility.id == bindparam("facility_id"))
)


async def facility_facts(database: Database, principal: Principal, facility_id: uuid.UUID) -> dict[str, Any]:
    """`cleanprod_contracts.v1.registry.FacilityWithEnterprise`'s two parts; 404 `record_not_found` as a facility
    read answers."""
    row = await database.fetch_one(_FACTS, facility_id=facility_id)
    if row is None:
        raise NotFound(code="record_not_found", params={"what": f"Facility {facility_id}"})
    enterprise = {name: row[_ENTERPRISE + name] for name in EnterprisePublic.model_fields}
    ensure_readable(principal, enterprise["tax_code"], f"Facility {facility_id}")
    facility = {name: row[name] for name in _FACILITY_FIELDS} | {"enterprise_tax_code": enterprise["tax_code"]}
    return {
        "facility": FacilityPublic.model_validate(facility),
        "enterprise": EnterprisePublic.model_validate(enterprise),
    }
