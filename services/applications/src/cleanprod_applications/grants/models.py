from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, updated_at, vnd


class TrancheKind(StrEnum):
    ADVANCE = "advance"
    BALANCE = "balance"
    RECOVERY = "recovery"


class TrancheStatus(StrEnum):
    PAYABLE = "payable"
    """To be paid to the enterprise."""
    WITHHELD = "withheld"
    """The balance, until verification concludes."""
    CANCELLED = "cancelled"
    """Settled at 0 VND."""
    RECOVERY_DUE = "recovery_due"
    """To be paid back by the enterprise."""
    PAID = "paid"
    """Paid to the enterprise (recorded by an officer from the treasury's transfer; migration 0011)."""


class Tranche(ServiceTable, table=True):
    """One payment (or recovery) of an approved grant: an advance on approval, the balance after verification,
    and — for a project far below its claim — a recovery of part of the advance."""

    __tablename__ = "tranches"
    __table_args__ = (
        UniqueConstraint("application_id", "kind", name="uq_tranches_application_kind"),
        CheckConstraint("planned_vnd >= 0 AND (amount_vnd IS NULL OR amount_vnd >= 0)", name="ck_tranches_amounts"),
        Index("ix_tranches_application", "application_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="applications.id")
    kind: TrancheKind = Field(sa_type=String(16))
    planned_vnd: int = vnd()
    amount_vnd: int | None = vnd(nullable=True, default=None)
    status: TrancheStatus = Field(sa_type=String(16))
    basis: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB, nullable=False)
    paid_on: dt.date | None = None
    payment_reference: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()


class PendingVerdict(ServiceTable, table=True):
    """A verification verdict that arrived before the application reached `completed` (for example the
    completion report was recorded on paper late); it is applied in the transaction that completes it."""

    __tablename__ = "pending_verdicts"

    application_id: uuid.UUID = Field(primary_key=True, foreign_key="applications.id")
    event_id: uuid.UUID
    source: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB, nullable=False)
    received_at: dt.datetime = created_at()
