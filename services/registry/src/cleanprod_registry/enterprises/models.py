from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Index, String
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, search_column, updated_at


class LegalForm(StrEnum):
    """Forms under the Law on Enterprises 2020 (plus cooperatives and household businesses)."""

    llc_single_member = "llc_single_member"
    llc_multi_member = "llc_multi_member"
    joint_stock = "joint_stock"
    partnership = "partnership"
    private = "private"
    state_owned = "state_owned"
    cooperative = "cooperative"
    household_business = "household_business"


class SizeClass(StrEnum):
    """Decree 80/2021/NĐ-CP size classes."""

    micro = "micro"
    small = "small"
    medium = "medium"
    large = "large"


class Enterprise(ServiceTable, table=True):
    __tablename__ = "enterprises"
    __table_args__ = (
        Index(
            "ix_enterprises_search",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index("ix_enterprises_ward", "ward"),
        Index("ix_enterprises_district", "district"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    tax_code: str = Field(max_length=14, unique=True)
    name: str = Field(max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    legal_form: LegalForm = Field(sa_type=String(32))
    size_class: SizeClass = Field(sa_type=String(16))
    address: str = Field(max_length=500)
    ward: str = Field(max_length=120)
    district: str | None = Field(default=None, max_length=120)
    province: str = Field(default="Thành phố Hà Nội", max_length=120)
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=254)
    contact_phone: str | None = Field(default=None, max_length=32)
    search_text: str | None = search_column("name", "name_en", "tax_code", "address", "ward", "district")
    version: int = Field(default=1)
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()
