"""The registry's read models, version 1 (`/api/v1`): the parts of its answers other services depend on.

The registry answers with more fields (addresses, contacts, timestamps …); these models name only what the
applications and verification services read, and ignore the rest. A contract test validates the registry's
real answers with them and checks that the registry still sends every field named here.
"""

from __future__ import annotations

import datetime as dt
import uuid

from ..base import Finite, ReadModel


class Facility(ReadModel):
    """`GET /api/v1/facilities/{id}`."""

    id: uuid.UUID
    enterprise_id: uuid.UUID
    enterprise_tax_code: str | None
    name: str
    status: str
    sector_code: str
    products: list[str]
    capacity_quantity: Finite | None
    capacity_unit: str | None
    ward: str | None
    district: str | None


class Enterprise(ReadModel):
    """`GET /api/v1/enterprises/{id}`."""

    id: uuid.UUID
    tax_code: str
    name: str
    ward: str | None
    district: str | None


class FacilityWithEnterprise(ReadModel):
    """`GET /internal/facilities/{id}/facts` (service accounts): the facility and its owning enterprise in one answer,
    as `GET /api/v1/facilities/{id}` and `GET /api/v1/enterprises/{id}` give them (issue 16: one call, not two)."""

    facility: Facility
    enterprise: Enterprise


class Sector(ReadModel):
    """`GET /api/v1/sectors/{code}`."""

    code: str
    name_vi: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en


class Quantity(ReadModel):
    quantity: Finite
    unit: str


class CarrierQuantity(ReadModel):
    carrier: str
    quantity: Finite
    unit: str


class BaselinePeriod(ReadModel):
    """One item of `GET /api/v1/facilities/{id}/baselines`."""

    id: uuid.UUID
    period_start: dt.date
    period_end: dt.date
    production: Quantity
    consumption: list[CarrierQuantity]
    cdd: Finite | None
    hdd: Finite | None
    estimated: bool
    version: int


class BaselinePage(ReadModel):
    """A page of `GET /api/v1/facilities/{id}/baselines` (keyset pagination: follow `next_cursor`)."""

    items: list[BaselinePeriod]
    next_cursor: str | None


class Norm(ReadModel):
    """`GET /api/v1/norms/lookup?sector=…&product=…&on=…[&capacity=…]`: the sector norm in force."""

    value: Finite
    unit: str
    circular: str | None
    capacity_band: str | None
    product: str
    valid_from: dt.date
    valid_to: dt.date


READ_MODELS: dict[str, type[ReadModel]] = {
    "/api/v1/facilities/{facility_id}": Facility,
    "/api/v1/enterprises/{enterprise_id}": Enterprise,
    "/api/v1/sectors/{code}": Sector,
    "/api/v1/facilities/{facility_id}/baselines": BaselinePage,
    "/api/v1/norms/lookup": Norm,
}
"""The registry path each read model is read from (the client and the contract tests use the same table)."""


class Recipient(ReadModel):
    """A login someone may be told something by e-mail: one item of `GET /internal/recipients` (service tokens
    only). `locale` is the Keycloak user attribute `locale` ("vi" or "en"; "vi" when unset or unknown)."""

    user_id: str
    username: str
    email: str | None
    locale: str
    enabled: bool
    full_name: str


class RecipientList(ReadModel):
    """`GET /internal/recipients?enterprise_id=…|role=…|user_id=…`."""

    items: list[Recipient]


class RecipientSet(ReadModel):
    """One audience of `GET /internal/recipients/by-audience`: `audience` as asked (`enterprise:<id>`,
    `role:<name>`, `user:<id>`), its people (`items`; [] for an unknown enterprise or user), or `error` when this
    one audience cannot be answered (e.g. a role nobody is mailed for) — the others are answered all the same."""

    audience: str
    items: list[Recipient]
    error: str | None = None


class RecipientSets(ReadModel):
    """`GET /internal/recipients/by-audience?audience=…&audience=…`: one set per distinct audience asked, in order."""

    audiences: list[RecipientSet]
