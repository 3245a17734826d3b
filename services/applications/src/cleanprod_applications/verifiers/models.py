from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Index
from sqlmodel import Field

from ..db_types import ServiceTable, created_at


class VerifierAssignment(ServiceTable, table=True):
    """The verifier currently assigned to the verification case of an application, as the verification service
    (which owns assignment) announced it with `verification.verifier_assigned`. That verifier — and no other —
    reads the application, its documents, history and tranches (access.py)."""

    __tablename__ = "verifier_assignments"
    __table_args__ = (Index("ix_verifier_assignments_verifier", "verifier_subject", "application_id"),)

    application_id: uuid.UUID = Field(primary_key=True, foreign_key="applications.id")
    verification_id: str | None = Field(default=None, max_length=64)
    verifier_subject: str = Field(max_length=255, description="Keycloak subject id (token `sub`)")
    verifier_username: str | None = Field(default=None, max_length=255)
    assigned_at: dt.datetime = created_at()  # when the verification service assigned (the event time)
    event_id: uuid.UUID
