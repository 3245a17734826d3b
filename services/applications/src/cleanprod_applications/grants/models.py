from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, moment, updated_at, vnd


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
    """To be paid back by the enterprise (raised; possibly collected in part)."""
    PREPARED = "prepared"
    """Payment prepared by finance (payment order drawn up), waiting for an officer's approval."""
    APPROVED = "approved"
    """Payment approved by an officer (four-eyes), waiting for the treasury/bank to pay."""
    PAID = "paid"
    """Paid: date, treasury/bank reference and amount recorded."""
    RECOVERED = "recovered"
    """A recovery collected in full."""


class Tranche(ServiceTable, table=True):
    """One payment (or recovery) of an approved grant: an advance on approval, the balance after verification,
    and — for a project far below its claim — a recovery of part of the advance."""

    __tablename__ = "tranches"
    __table_args__ = (
        UniqueConstraint("application_id", "kind", "source_id", name="uq_tranches_application_kind_source"),
        CheckConstraint("planned_vnd >= 0 AND (amount_vnd IS NULL OR amount_vnd >= 0)", name="ck_tranches_amounts"),
        CheckConstraint(
            "collected_vnd >= 0 AND collected_vnd <= coalesce(amount_vnd, 0)", name="ck_tranches_collected"
        ),
        Index("ix_tranches_application", "application_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="applications.id")
    kind: TrancheKind = Field(sa_type=String(16))
    planned_vnd: int = vnd()
    amount_vnd: int | None = vnd(nullable=True, default=None)
    status: TrancheStatus = Field(sa_type=String(16))
    basis: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB, nullable=False)
    # Which funding source pays it (or receives the recovery), and its payment bookkeeping (payments/).
    source_id: uuid.UUID = Field(foreign_key="funding_sources.id")
    prepared_by: str | None = Field(default=None, max_length=255)
    prepared_by_name: str | None = Field(default=None, max_length=255)
    prepared_at: dt.datetime | None = moment()
    approved_by: str | None = Field(default=None, max_length=255)
    approved_by_name: str | None = Field(default=None, max_length=255)
    approved_at: dt.datetime | None = moment()
    paid_on: dt.date | None = None
    paid_vnd: int | None = vnd(nullable=True, default=None)
    payment_reference: str | None = Field(default=None, max_length=64)
    paid_recorded_by: str | None = Field(default=None, max_length=255)
    collected_vnd: int = vnd(default=0)
    version: int = Field(default=1)
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()


class RecoveryCollection(ServiceTable, table=True):
    """One part of a recovery the enterprise paid back (a recovery may be collected in several parts)."""

    __tablename__ = "recovery_collections"
    __table_args__ = (
        CheckConstraint("amount_vnd > 0", name="ck_recovery_collections_amount_positive"),
        Index("ix_recovery_collections_tranche", "tranche_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    tranche_id: uuid.UUID = Field(foreign_key="tranches.id")
    amount_vnd: int = vnd()
    collected_on: dt.date
    reference: str = Field(max_length=64)
    recorded_by: str = Field(max_length=255)
    recorded_by_name: str = Field(max_length=255)
    created_at: dt.datetime = created_at()


class PendingVerdict(ServiceTable, table=True):
    """A verification verdict that arrived before the application reached `completed` (for example the
    completion report was recorded on paper late); it is applied in the transaction that completes it."""

    __tablename__ = "pending_verdicts"

    application_id: uuid.UUID = Field(primary_key=True, foreign_key="applications.id")
    event_id: uuid.UUID
    source: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB, nullable=False)
    received_at: dt.datetime = created_at()
