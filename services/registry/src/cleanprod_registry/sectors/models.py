"""Sectors (with the programme's priority flag) and sector energy-consumption norms (định mức tiêu hao năng lượng)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Column, Index, Numeric
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at


class Sector(ServiceTable, table=True):
    __tablename__ = "sectors"

    code: str = Field(primary_key=True, max_length=32)
    name_vi: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    priority: bool = Field(default=False)
    version: int = Field(default=1)
    created_at: dt.datetime = created_at()


class Norm(ServiceTable, table=True):
    __tablename__ = "sector_norms"
    __table_args__ = (Index("ix_sector_norms_lookup", "sector_code", "product", "valid_from"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    circular: str = Field(max_length=64)
    sector_code: str = Field(foreign_key="sectors.code", max_length=32)
    product: str = Field(max_length=200)
    capacity_band: str | None = Field(default=None, max_length=100)
    # The band parsed once at write time, so look-ups by capacity are plain comparisons.
    band_min: float | None = Field(default=None)
    band_min_inclusive: bool = Field(default=True)
    band_max: float | None = Field(default=None)
    band_max_inclusive: bool = Field(default=True)
    unit: str = Field(max_length=32)
    value: float = Field(sa_column=Column(Numeric(14, 4), nullable=False))
    valid_from: dt.date
    valid_to: dt.date
    source_url: str | None = Field(default=None, max_length=1000)
    version: int = Field(default=1)
    created_at: dt.datetime = created_at()
