from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from cleanprod_kit.ids import uuid7

from ..db_types import ServiceTable, created_at, moment


class AssignmentStatus(StrEnum):
    AWAITING_DECLARATION = "awaiting_declaration"
    INDEPENDENT = "independent"
    CONFLICT = "conflict"
    REPLACED = "replaced"


class VerifierAssignment(ServiceTable, table=True):
    """One verifier assigned to one case, with the declaration of independence (or conflict) they made.
    Rows are never deleted: a replaced or conflicted verifier stays in the case's record."""

    __tablename__ = "verifier_assignments"
    __table_args__ = (Index("ix_verifier_assignments_case", "case_id", "assigned_at"),)

    id: uuid.UUID = Field(default_factory=uuid7, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="verification_cases.id")
    verifier_subject: str = Field(max_length=255)
    verifier_username: str = Field(max_length=255)
    note: str | None = Field(default=None, sa_type=Text)
    assigned_by_subject: str = Field(max_length=255)
    assigned_by_name: str | None = Field(default=None, max_length=255)
    assigned_at: dt.datetime = created_at()
    status: str = Field(default=AssignmentStatus.AWAITING_DECLARATION, sa_type=String(32))
    independent: bool | None = None
    statement: str | None = Field(default=None, sa_type=Text)
    # the parties the declaration covers, as the case named them when it was made
    declared_against: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB, nullable=False)
    declared_at: dt.datetime | None = moment()
    replaced_at: dt.datetime | None = moment()
