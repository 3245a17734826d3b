from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import Column, Computed, Index, Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, search_column, updated_at


class FacilityStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    closed = "closed"


class Facility(ServiceTable, table=True):
    __tablename__ = "facilities"
    __table_args__ = (
        Index(
            "ix_facilities_search",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index(
            "ix_facilities_name_words",
            "name_words",
            postgresql_using="gin",
            postgresql_ops={"name_words": "gin_trgm_ops"},
        ),
        Index("ix_facilities_rank", "name_trigrams", "id", postgresql_include=["name_words"]),
        Index("ix_facilities_enterprise", "enterprise_id", "id"),
        Index("ix_facilities_sector", "sector_code", "id"),
        Index("ix_facilities_ward", "ward"),
        Index("ix_facilities_district", "district"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    enterprise_id: uuid.UUID = Field(foreign_key="enterprises.id")
    name: str = Field(max_length=300)
    sector_code: str = Field(foreign_key="sectors.code", max_length=32)
    products: list[str] = Field(default_factory=list, sa_type=JSONB, nullable=False)
    capacity_quantity: float | None = Field(default=None)
    capacity_unit: str | None = Field(default=None, max_length=32)
    address: str = Field(max_length=500)
    ward: str = Field(max_length=120)
    district: str | None = Field(default=None, max_length=120)
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    status: FacilityStatus = Field(default=FacilityStatus.active, sa_type=String(16))
    search_text: str | None = search_column("name", "address", "ward", "district")
    # Ranked search (migration 0003, docs/performance.md "Facility search"): the folded name as space-padded words,
    # and its number of trigrams (the similarity order among whole-word matches).
    name_words: str | None = Field(
        default=None,
        sa_column=Column(
            Text, Computed("' ' || regexp_replace(cp_fold(name), '[^[:alnum:]]+', ' ', 'g') || ' '", persisted=True)
        ),
    )
    name_trigrams: int | None = Field(
        default=None,
        sa_column=Column(Integer, Computed("coalesce(array_length(show_trgm(cp_fold(name)), 1), 0)", persisted=True)),
    )
    version: int = Field(default=1)
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()


class FacilityWord(ServiceTable, table=True):
    """One word of a facility's folded name, in rank order (migration 0004, docs/performance.md "Facility search"):
    the whole-word tier of a search reads the rarest query word's rows from this B-tree, in the order of the ranked
    list, and checks the other words on the included `name_words`, index-only. Kept in step with `facilities` by
    its triggers (insert, rename, delete: the same transaction, also for COPY and plain SQL); never written here."""

    __tablename__ = "facility_words"
    __table_args__ = (
        PrimaryKeyConstraint(
            "word", "name_trigrams", "facility_id", name="facility_words_pkey", postgresql_include=["name_words"]
        ),
    )

    word: str = Field(sa_column=Column(Text(collation="C"), nullable=False))
    name_trigrams: int = Field(sa_column=Column(Integer, nullable=False))
    facility_id: uuid.UUID = Field(nullable=False)
    name_words: str = Field(sa_column=Column(Text, nullable=False))
